/**
 * When a sync may decide from the account's cached reads (src/issuers/read-cache.ts), so that
 * correctness never depends on the cache: a pass planned from cached reads is kept only when it
 * writes nothing and confirms the previous status byte for byte (modulo key order). Anything
 * else — a write to make, a status that would change, a pending action or create intent to
 * follow, a failed read — is observed again fresh and planned again before the first write.
 * A stale cached answer can therefore only delay noticing drift (by at most the cache TTL),
 * never cause a write or a status that fresh reads would not give.
 */
import type { PlannedStep } from '../plan/steps.js';
import type { RoutedIPStatus } from '../schemas/routed-ip.js';
import type { SyncContext } from './context.js';

/**
 * Whether the first pass may read cached: not while an action or a create intent is being
 * followed (its completion must be seen as soon as it happens), and not without a previous
 * status to confirm.
 */
export function mayReadCached(ctx: SyncContext): boolean {
  return ctx.parent.status !== undefined && ctx.previous.pendingAction === undefined && ctx.previous.createIntent === undefined;
}

/** True when executing `steps` would send a write (dry runs send none). */
export const wouldWrite = (steps: readonly PlannedStep[], dryRun: boolean): boolean => !dryRun && steps.some((s) => s.action !== undefined);

/** True when `status` is the status Metacontroller delivered (`previous`, as stored). */
export function confirms(status: RoutedIPStatus, previous: unknown): boolean {
  return canonical(status) === canonical(previous);
}

/** JSON with object keys sorted (the API server stores a CR's status as a map). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
