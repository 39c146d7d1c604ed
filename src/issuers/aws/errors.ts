/**
 * EC2 error codes (`err.name`, the `<Code>` of the error envelope) onto the issuer error classes.
 *
 * Messages are built from the action and the code only, plus EC2's own text for invalid
 * requests with anything that looks like a request id removed, so two identical failures give
 * identical condition bytes and no credential ever reaches a message.
 */
import {
  IssuerAuthError,
  IssuerError,
  IssuerInvalidError,
  IssuerNotFoundError,
  IssuerQuotaError,
  IssuerRateLimitError,
  IssuerUnavailableError,
} from '../errors.js';

/** Seconds a throttled caller is told to wait before the first retry. */
export const THROTTLE_BASE_SECONDS = 5;

const AUTH = new Set(['AuthFailure', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken', 'RequestExpired', 'IncompleteSignature', 'MissingAuthenticationToken', 'OptInRequired', 'Blocked', 'PendingVerification']);
const FORBIDDEN = new Set(['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException']);
const THROTTLE = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'ResourceLimitExceeded']);
const QUOTA = new Set(['AddressLimitExceeded', 'RulesPerSecurityGroupLimitExceeded', 'SecurityGroupsPerInterfaceLimitExceeded', 'SecurityGroupLimitExceeded']);
const UNAVAILABLE = new Set(['InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable', 'InsufficientAddressCapacity']);
const NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Fields of an SDK error that matter here. */
interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/** The EC2 error code of `err` (`name` for service errors, `code` for socket errors). */
export function awsErrorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'Unknown';
  const e = err as SdkErrorShape;
  if (e.code && NETWORK.has(e.code)) return e.code;
  return e.name ?? e.code ?? 'Unknown';
}

/** True when `err`, or the SDK error an IssuerError wraps, carries one of `codes`. */
export const hasCode = (err: unknown, ...codes: string[]): boolean =>
  codes.includes(awsErrorCode(err instanceof IssuerError && err.cause !== undefined ? err.cause : err));

const REQUEST_ID = /\b(?:request ?id[:=]?\s*)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/** EC2's own text, without request ids, bounded. */
function cloudText(err: unknown): string {
  const message = typeof err === 'object' && err !== null ? String((err as SdkErrorShape).message ?? '') : '';
  const cleaned = message.replace(REQUEST_ID, '').replace(/\s+/g, ' ').trim();
  return cleaned.length > 200 ? `${cleaned.slice(0, 197)}...` : cleaned;
}

/**
 * Maps an SDK error of `action` (an EC2 Action name) onto an IssuerError. `retryAfterSeconds` is
 * the wait a throttle answers with (the caller's budget decides it).
 */
export function mapAwsError(err: unknown, action: string, retryAfterSeconds = THROTTLE_BASE_SECONDS): IssuerError {
  if (err instanceof IssuerError) return err;
  const code = awsErrorCode(err);
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const what = `EC2 ${action} failed with ${code}`;
  // The SDK's credential chain found nothing (no web identity token, the EKS Pod Identity agent
  // or IMDS unreachable): no request was sent. Its text is not used: it may name files and
  // endpoints, and it varies; the source may come back, so it is retried with backoff.
  if (code === 'CredentialsProviderError') {
    return new IssuerAuthError(
      `EC2 ${action} not sent: no AWS credentials could be loaded from the default chain (environment, IRSA web identity token, EKS Pod Identity agent, instance role through IMDS); check the ServiceAccount's role and that the NetworkPolicy lets the pod reach the agent or IMDS (docs/providers/aws.md)`,
      'CredentialsUnavailable',
      { cause: err, retryable: true },
    );
  }
  if (AUTH.has(code)) return new IssuerAuthError(`${what}: the AWS credentials were not accepted`, 'InvalidCredentials', { cause: err });
  if (FORBIDDEN.has(code)) return new IssuerAuthError(`${what}: the AWS identity is not allowed ec2:${action} (see the IAM policy in docs/providers/aws.md)`, 'Unauthorized', { cause: err });
  if (THROTTLE.has(code)) return new IssuerRateLimitError(`${what}: EC2 throttled the account`, retryAfterSeconds, { cause: err });
  if (QUOTA.has(code)) return new IssuerQuotaError(`${what}: an account limit was reached (request a higher quota or release unused resources)`, 'QuotaExceeded', { cause: err });
  if (code.endsWith('.NotFound')) return new IssuerNotFoundError(`${what}: ${cloudText(err)}`, code.replace(/^Invalid/, '').replace(/ID\.|Id\.|\./g, ''), true, { cause: err });
  if (UNAVAILABLE.has(code) || NETWORK.has(code) || e.$fault === 'server' || (status !== undefined && status >= 500)) {
    return new IssuerUnavailableError(`${what}: EC2 could not be reached or failed`, 'CloudUnavailable', { cause: err });
  }
  if (e.$fault === 'client' || (status !== undefined && status >= 400)) return new IssuerInvalidError(`${what}: ${cloudText(err)}`, 'InvalidRequest', { cause: err });
  return new IssuerUnavailableError(`${what}`, 'CloudUnavailable', { cause: err });
}
