/**
 * A per-token request budget, read from the answers' `ratelimit-remaining`, `ratelimit-reset`
 * and `retry-after` headers, shared by the clouds that send them: DigitalOcean counts requests
 * per token — `ratelimit-remaining` is the HOURLY counter (5,000, each request counted for one
 * hour; `ratelimit-reset` = when the oldest one expires), while the 250-per-minute burst limit has
 * no header and shows only as a 429 with `retry-after` (and remaining 0) — Hetzner Cloud per project (3,600
 * per hour, a bucket refilled by one request per second). Neither client retries, so this is the
 * one place that decides to stop calling: once the API answered 429, or the remaining budget
 * fell to the reserve, every call is refused with `IssuerRateLimitError` until the window allows
 * calls again. The hook then answers 429 with `Retry-After`: Metacontroller backs off instead of
 * the issuer looping. Keep one budget per token hash for the whole process.
 */
import { IssuerRateLimitError } from './errors.js';

/** Options of a budget. */
export interface RateBudgetOptions {
  /** Calls are refused once `ratelimit-remaining` is at or below this reserve. */
  readonly reserve: number;
  /** Clock in milliseconds (tests). */
  readonly now: () => number;
  /** The cloud's name in messages. Default `DigitalOcean`. */
  readonly cloud?: string;
  /**
   * Requests the bucket regains per second, when it refills steadily (Hetzner: 1). Then
   * `ratelimit-reset` is when the bucket is *full*, and a budget at the reserve waits only until
   * it is above the reserve again, never longer than the reset.
   */
  readonly refillPerSecond?: number;
}

/** Header values as axios exposes them (lower-case names). */
export type Headers = Readonly<Record<string, unknown>>;

const int = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** When nothing says how long to wait. */
const FALLBACK_WAIT_MS = 60_000;

/** The budget of one token. */
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
    const cloud = this.options.cloud ?? 'DigitalOcean';
    const refill = this.options.refillPerSecond;
    /** When `needed` more requests are available again, bounded by the reset. */
    const refilled = (needed: number): number => {
      const full = resetMs > now ? resetMs : now + FALLBACK_WAIT_MS;
      return refill === undefined ? full : Math.min(full, now + Math.ceil(needed / refill) * 1000);
    };
    if (status === 429) {
      const until = retryAfterMs > 0 ? now + retryAfterMs : refilled(this.options.reserve + 1);
      this.block(until, `${cloud} API rate limit exceeded (HTTP 429)`);
      return new IssuerRateLimitError(this.reason, (this.blockedUntil - now) / 1000);
    }
    if (remaining !== undefined && remaining <= this.options.reserve) {
      this.block(refilled(this.options.reserve + 1 - remaining), `${cloud} API rate budget nearly spent (ratelimit-remaining at or below ${this.options.reserve})`);
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
