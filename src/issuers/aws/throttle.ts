/**
 * A per-account throttle budget kept by the factory for the life of the process: after EC2
 * answers RequestLimitExceeded, calls for that account are refused locally (HTTP 429 with
 * `Retry-After`) until the wait has passed, and the wait doubles on each consecutive throttle.
 */

/** The budget; keys are hashes of region, endpoint and credentials, never secrets. */
export interface ThrottleBudget {
  /** Seconds the account must still wait (0 = may call). */
  remainingSeconds(key: string): number;
  /** Records a throttle; returns the seconds to wait. */
  throttled(key: string): number;
  /** Records a successful call: the wait starts again from the base. */
  succeeded(key: string): void;
}

/** Builds a budget starting at `baseSeconds`, doubling to `maxSeconds`. */
export function createThrottleBudget(now: () => number = Date.now, baseSeconds = 5, maxSeconds = 60): ThrottleBudget {
  const entries = new Map<string, { until: number; seconds: number }>();
  return {
    remainingSeconds(key) {
      const e = entries.get(key);
      if (!e) return 0;
      const ms = e.until - now();
      return ms > 0 ? Math.ceil(ms / 1000) : 0;
    },
    throttled(key) {
      const previous = entries.get(key);
      const seconds = previous ? Math.min(maxSeconds, previous.seconds * 2) : baseSeconds;
      entries.set(key, { until: now() + seconds * 1000, seconds });
      if (entries.size > 1000) entries.delete(entries.keys().next().value as string);
      return seconds;
    },
    succeeded(key) {
      entries.delete(key);
    },
  };
}
