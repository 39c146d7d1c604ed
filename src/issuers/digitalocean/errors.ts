/**
 * DigitalOcean failures (AxiosError from dots-wrapper or the reserved-IP calls) mapped onto the
 * issuer error classes. Messages are built only from the operation, the HTTP status, the error
 * `id` and DigitalOcean's own `message` (never request ids, URLs, headers or the token), so two
 * identical failures produce identical status conditions. The AxiosError is deliberately not
 * attached as `cause`: its `config` carries the Authorization header, and a logger serialising
 * the cause would print the token.
 */
import { isAxiosError } from 'axios';
import {
  IssuerAuthError,
  IssuerBusyError,
  IssuerError,
  IssuerInvalidError,
  IssuerNotFoundError,
  IssuerQuotaError,
  IssuerUnavailableError,
} from '../errors.js';

/** DigitalOcean's error body (`shared/models/error.yml`). */
interface ErrorBody {
  readonly id?: unknown;
  readonly message?: unknown;
}

/** DigitalOcean's own message, trimmed; empty when absent. */
function doMessage(data: unknown): string {
  const m = (data as ErrorBody | undefined)?.message;
  return typeof m === 'string' ? m.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
}

/** A 422 that means "wait": an action is still running on the IP or the Droplet. */
export const isPendingEvent = (message: string): boolean => /pending event|in progress|locked/i.test(message);

/** A 422 that means "this droplet already has its one reserved IP": elect another, never a dead end. */
export const holdsReservedIP = (message: string): boolean => /already ha(s|ve) a (reserved|floating) IP/i.test(message);

/**
 * A 422 that means "this firewall already applies to DigitalOcean's maximum of 10 individual
 * Droplets". The only public trace of the text is "… must have no more than 10 droplets"
 * (a Terraform apply, alphaonedev/ai-memory-mcp#1537), so the match is on that phrase.
 */
export const firewallDropletLimit = (message: string): boolean => /no more than \d+ droplets/i.test(message);

/**
 * Maps anything a DigitalOcean call threw. `what` names the operation in words
 * ("assign reserved IP 198.51.100.10"); 429 is handled by the rate budget before this.
 */
export function mapDigitalOceanError(err: unknown, what: string): IssuerError {
  if (err instanceof IssuerError) return err;
  if (!isAxiosError(err)) return new IssuerUnavailableError(`${what}: unexpected client failure`, 'CloudUnavailable');
  const response = err.response;
  if (!response) {
    const code = err.code ?? 'ERR_NETWORK';
    return new IssuerUnavailableError(`${what}: no answer from the DigitalOcean API (${code})`, 'CloudUnreachable');
  }
  const status = response.status;
  const message = doMessage(response.data);
  const detail = message === '' ? `HTTP ${status}` : `HTTP ${status}: ${message}`;
  switch (true) {
    case status === 401:
      return new IssuerAuthError(`DigitalOcean rejected the API token (${detail}); check the Secret named by tokenSecretRef`, 'InvalidCredentials');
    case status === 403:
      return new IssuerAuthError(`${what}: the API token lacks a scope for this call (${detail})`, 'Forbidden');
    case status === 404:
      return new IssuerNotFoundError(`${what}: not found (${detail})`, 'NotFound', true);
    case status === 422 && holdsReservedIP(message):
      return new IssuerBusyError(`${what}: the droplet already holds a reserved IP (${detail}); another node will be elected`, 'DropletHoldsReservedIP');
    case status === 422 && isPendingEvent(message):
      return new IssuerBusyError(`${what}: DigitalOcean reports a pending event (${detail})`, 'CloudBusy');
    case status === 422 && firewallDropletLimit(message):
      // Not retryable by waiting (the ten slots stay taken), and not an invalid request either:
      // the user's fix is tag membership, which has no Droplet limit.
      return new IssuerQuotaError(
        `${what}: the firewall already applies to DigitalOcean's maximum of 10 individual Droplets (${detail}); set spec.digitalocean.firewallTag so that the firewall applies to a tag instead (no Droplet limit), or free a slot`,
        'FirewallDropletLimit',
      );
    case status === 422 && /maximum|limit|quota/i.test(message):
      return new IssuerQuotaError(`${what}: account limit reached (${detail})`, 'QuotaExceeded');
    case status === 400 || status === 422:
      return new IssuerInvalidError(`${what}: DigitalOcean refused the request (${detail})`, 'InvalidRequest');
    case status >= 500:
      return new IssuerUnavailableError(`${what}: DigitalOcean failed (${detail})`, 'CloudUnavailable');
    default:
      return new IssuerUnavailableError(`${what}: unexpected answer (${detail})`, 'CloudUnavailable');
  }
}
