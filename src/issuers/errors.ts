/**
 * The error classes every issuer raises. Cloud-specific errors (AxiosError, EC2ServiceException)
 * never leave an issuer: each issuer maps them onto these, so the reconcile layer decides
 * conditions, backoff and HTTP answers from one vocabulary.
 *
 * Messages must be deterministic and secret-free: they end up in status conditions, which must
 * not change bytes between two identical failures (no request ids, no timestamps, no tokens).
 */

/** Longest message an IssuerError keeps (cloud text included). */
export const MAX_MESSAGE_LENGTH = 400;

/** Options of every issuer error. */
export interface IssuerErrorOptions {
  readonly cause?: unknown;
  /**
   * The Kubernetes node whose machine is the cause (it cannot take the address: wrong region, no
   * free private IP, …). Another node would do: the sync re-elects without it, and the failure
   * is not a user's to fix, so it backs off like a retryable one instead of waiting 300 s.
   */
  readonly node?: string;
}

/** Base class. `reason` is the condition reason reported in status. */
export class IssuerError extends Error {
  override name = 'IssuerError';
  /** Condition reason, a CamelCase word. */
  readonly reason: string;
  /** True when the same call may succeed later without any change by the user. */
  readonly retryable: boolean;
  /** See `IssuerErrorOptions.node`. */
  readonly node?: string;
  constructor(message: string, reason: string, retryable: boolean, options?: IssuerErrorOptions) {
    // Cloud text flows into messages: bounded here, once, so an echoing or chatty cloud cannot
    // grow the status (redaction of credentials happens on output, src/redaction.ts).
    super(message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message, options);
    this.reason = reason;
    this.retryable = retryable;
    if (options?.node !== undefined) this.node = options.node;
  }
}

/**
 * Credentials missing, rejected (401, AuthFailure) or not allowed (403, UnauthorizedOperation).
 * Not retryable unless `retryable` says so: credentials that could not be obtained from an
 * ambient source (an agent or IMDS unreachable for a moment) may come back by themselves.
 */
export class IssuerAuthError extends IssuerError {
  override name = 'IssuerAuthError';
  constructor(message: string, reason = 'InvalidCredentials', options?: IssuerErrorOptions & { readonly retryable?: boolean }) {
    super(message, reason, options?.retryable ?? false, options);
  }
}

/** The cloud throttled us; `retryAfterSeconds` is when the budget allows a new call. */
export class IssuerRateLimitError extends IssuerError {
  override name = 'IssuerRateLimitError';
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: IssuerErrorOptions) {
    super(message, 'RateLimited', true, options);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** A named resource does not exist (a droplet, an instance, an address). */
export class IssuerNotFoundError extends IssuerError {
  override name = 'IssuerNotFoundError';
  constructor(message: string, reason = 'NotFound', retryable = false, options?: IssuerErrorOptions) {
    super(message, reason, retryable, options);
  }
}

/**
 * The resource is busy (DigitalOcean 422 "pending event", `locked`), or was just created and is
 * not visible yet (eventual consistency). Always retryable, with a short delay.
 */
export class IssuerBusyError extends IssuerError {
  override name = 'IssuerBusyError';
  constructor(message: string, reason = 'CloudBusy', options?: IssuerErrorOptions) {
    super(message, reason, true, options);
  }
}

/** An account limit was hit (3 reserved IPs, 5 Elastic IPs, rules per group). */
export class IssuerQuotaError extends IssuerError {
  override name = 'IssuerQuotaError';
  constructor(message: string, reason = 'QuotaExceeded', options?: IssuerErrorOptions) {
    super(message, reason, false, options);
  }
}

/** The cloud refused the request as invalid (422, InvalidParameterValue, wrong region…). */
export class IssuerInvalidError extends IssuerError {
  override name = 'IssuerInvalidError';
  constructor(message: string, reason = 'InvalidRequest', options?: IssuerErrorOptions) {
    super(message, reason, false, options);
  }
}

/** The cloud failed or could not be reached (5xx, timeout, connection reset). */
export class IssuerUnavailableError extends IssuerError {
  override name = 'IssuerUnavailableError';
  constructor(message: string, reason = 'CloudUnavailable', options?: IssuerErrorOptions) {
    super(message, reason, true, options);
  }
}

/**
 * The hook's deadline passed (or Metacontroller gave up on the call) before the work was done:
 * nothing more is started, the status so far is answered and the next sync carries on.
 */
export class IssuerDeadlineError extends IssuerError {
  override name = 'IssuerDeadlineError';
  constructor(message: string, options?: IssuerErrorOptions) {
    super(message, 'DeadlineExceeded', true, options);
  }
}

/** Narrows an unknown throw to an IssuerError, wrapping anything else as unavailable. */
export function toIssuerError(err: unknown): IssuerError {
  if (err instanceof IssuerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new IssuerUnavailableError(`unexpected error: ${message}`, 'CloudUnavailable', { cause: err });
}
