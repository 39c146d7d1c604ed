/**
 * A per-token DigitalOcean request budget, read from the answers' `ratelimit-remaining`,
 * `ratelimit-reset` and `retry-after` headers. DigitalOcean counts requests per token (250 per
 * minute, 5,000 per hour, a sliding window) and dots-wrapper never retries, so this is the one
 * place that decides to stop calling: once the API answered 429, or the remaining budget fell
 * to the reserve, every call is refused with `IssuerRateLimitError` until the window allows
 * calls again. The hook then answers 429 with `Retry-After`: Metacontroller backs off instead of
 * the issuer looping.
 */
import { IssuerRateLimitError } from '../errors.js';

/** Options of a budget. */
export interface RateBudgetOptions {
  /** Calls are refused once `ratelimit-remaining` is at or below this reserve. */
  readonly reserve: number;
  /** Clock in milliseconds (tests). */
  readonly now: () => number;
}

/** Header values as axios exposes them (lower-case names). */
export type Headers = Readonly<Record<string, unknown>>;

const int = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** When nothing says how long to wait. */
const FALLBACK_WAIT_MS = 60_000;

/** The budget of one token. Keep one per token hash for the whole process. */
export class RateBudget {
  private blockedUntil = 0;
  private reason = '';

  constructor(private readonly options: RateBudgetOptions) {}

  /** Throws `IssuerRateLimitError` while the budget is spent. Call before every request. */
  check(): void {
    const wait = this.blockedUntil - this.options.now();
    if (wait > 0) throw new IssuerRateLimitError(this.reason, wait / 1000);
  }

  /** Learns from an answer (success or error). Returns the error to throw for a 429. */
  observe(status: number | undefined, headers: Headers | undefined): IssuerRateLimitError | undefined {
    const now = this.options.now();
    const remaining = int(headers?.['ratelimit-remaining']);
    const resetMs = (int(headers?.['ratelimit-reset']) ?? 0) * 1000;
    const retryAfterMs = (int(headers?.['retry-after']) ?? 0) * 1000;
    if (status === 429) {
      const until = retryAfterMs > 0 ? now + retryAfterMs : resetMs > now ? resetMs : now + FALLBACK_WAIT_MS;
      this.block(until, 'DigitalOcean API rate limit exceeded (HTTP 429)');
      return new IssuerRateLimitError(this.reason, (this.blockedUntil - now) / 1000);
    }
    if (remaining !== undefined && remaining <= this.options.reserve) {
      this.block(resetMs > now ? resetMs : now + FALLBACK_WAIT_MS, `DigitalOcean API rate budget nearly spent (ratelimit-remaining at or below ${this.options.reserve})`);
    }
    return undefined;
  }

  private block(until: number, reason: string): void {
    if (until > this.blockedUntil) {
      this.blockedUntil = until;
      this.reason = reason;
    }
  }
}
