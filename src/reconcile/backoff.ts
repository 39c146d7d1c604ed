/**
 * Stateless backoff. The service keeps no memory between calls and must not count failures in
 * status (a changing counter re-triggers a sync: a hot loop), so the delay grows with the time
 * the RoutedIP has been not Ready: half the elapsed time, between 5 s and 5 min.
 */
import type { Condition } from '../schemas/routed-ip.js';

/** Shortest and longest delay, seconds. */
export const MIN_BACKOFF_SECONDS = 5;
export const MAX_BACKOFF_SECONDS = 300;

/** Delay before the next try after a retryable failure. */
export function backoffSeconds(conditions: readonly Condition[], now: Date): number {
  const ready = conditions.find((c) => c.type === 'Ready');
  const since = ready ? Date.parse(ready.lastTransitionTime) : Number.NaN;
  const elapsed = Number.isNaN(since) ? 0 : Math.max(0, (now.getTime() - since) / 1000);
  return Math.min(MAX_BACKOFF_SECONDS, Math.max(MIN_BACKOFF_SECONDS, Math.ceil(elapsed / 2)));
}
