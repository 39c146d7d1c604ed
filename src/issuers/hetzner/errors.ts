/**
 * Hetzner Cloud failures mapped onto the issuer error classes, by HTTP status and the error
 * envelope's `code` (never by message text). Messages carry only the operation, the status, the
 * code and Hetzner's own short message — no URL, header or token — so two identical failures
 * give identical conditions, and no error keeps the request (with its Authorization header) as
 * `cause`.
 */
import {
  IssuerAuthError,
  IssuerBusyError,
  IssuerError,
  IssuerInvalidError,
  IssuerNotFoundError,
  IssuerQuotaError,
  IssuerUnavailableError,
} from '../errors.js';

/** A failed answer: status, `error.code` and `error.message` (empty when the body had none). */
export interface HetznerFailure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** Maps a failed answer of the operation `what` ("assign Floating IP 42 to server 7"). */
export function mapHetznerError(failure: HetznerFailure, what: string): IssuerError {
  const { status, code } = failure;
  const text = failure.message.replace(/\s+/g, ' ').trim().slice(0, 200);
  const detail = `HTTP ${status}${code !== '' ? ` ${code}` : ''}${text !== '' ? `: ${text}` : ''}`;
  switch (true) {
    case status === 401:
      return new IssuerAuthError(`Hetzner Cloud rejected the API token (${detail}); check the Secret named by tokenSecretRef`, 'InvalidCredentials');
    case code === 'token_readonly':
      return new IssuerAuthError(`${what}: the API token is read-only; create a Read & Write token (${detail})`, 'Forbidden');
    case code === 'resource_limit_exceeded':
      return new IssuerQuotaError(`${what}: project limit reached (${detail})`, 'QuotaExceeded');
    case status === 403:
      return new IssuerAuthError(`${what}: the API token is not allowed to do this (${detail})`, 'Forbidden');
    case status === 404:
      return new IssuerNotFoundError(`${what}: not found (${detail})`, 'NotFound', true);
    case code === 'protected':
      return new IssuerInvalidError(`${what}: the resource has delete protection; the operator never changes it — disable it in the Hetzner Console to let it go (${detail})`, 'DeleteProtected');
    case code === 'locked' || code === 'conflict' || status === 423:
      return new IssuerBusyError(`${what}: a running action locks the resource (${detail})`, 'CloudBusy');
    case code === 'uniqueness_error':
      return new IssuerInvalidError(`${what}: the name is already used in the project (${detail})`, 'NameTaken');
    case status >= 500 || code === 'unavailable' || code === 'maintenance' || code === 'timeout':
      return new IssuerUnavailableError(`${what}: Hetzner Cloud failed (${detail})`, 'CloudUnavailable');
    case status >= 400 && status < 500:
      return new IssuerInvalidError(`${what}: Hetzner Cloud refused the request (${detail})`, 'InvalidRequest');
    default:
      return new IssuerUnavailableError(`${what}: unexpected answer (${detail})`, 'CloudUnavailable');
  }
}
