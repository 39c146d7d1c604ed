/**
 * The orphan sweep of one issuer, run by the issuer controller on its syncs (docs/design.md
 * "Orphan sweep"): list the addresses carrying our marks (one cloud read, cached per issuer for
 * `SWEEP_SECONDS`, since every RoutedIP status change re-syncs the issuer), plan with
 * `plan/orphans.ts`, and release what is due — each release re-reads the address first, under the
 * hook's deadline and the account's rate budget like every other write.
 */
import { Value } from '@sinclair/typebox/value';
import { IssuerError, IssuerRateLimitError, toIssuerError } from '../issuers/errors.js';
import type { MarkedAddress, RoutedIPIssuer } from '../issuers/issuer.js';
import type { DeliveredRoutedIP } from '../schemas/delivered.js';
import { MAX_ORPHAN_RECORDS, OrphanRecordSchema, type DeliveredIssuer, type OrphanRecord } from '../schemas/routed-ip.js';
import { planOrphanSweep, type KnownRoutedIPs } from '../plan/orphans.js';
import { isFalse, isTrue, isUnknown, type ConditionValue } from './conditions.js';
import type { IssuerSettings } from './context.js';
import { readStatusHint } from './hints.js';

/** Seconds a listing of marked addresses is reused by the syncs of one issuer. */
export const SWEEP_SECONDS = 60;

/** What one sweep found and did. */
export interface SweepOutcome {
  /** `status.orphans` (absent when there are none, or the cloud cannot be swept). */
  readonly orphans?: readonly OrphanRecord[];
  /** How many orphans there are (the record list is bounded). */
  readonly count: number;
  readonly released: number;
  readonly condition: ConditionValue;
  /** Resync this soon to release an orphan once its grace is over. */
  readonly resyncAfterSeconds?: number;
  /** The cloud's rate budget is spent: answer 429 with this Retry-After. */
  readonly throttleSeconds?: number;
}

/** Listings by issuer key, each reused for `ttlSeconds`. */
export class MarkedAddressCache {
  private readonly entries = new Map<string, { at: number; marked: readonly MarkedAddress[] }>();
  constructor(
    private readonly ttlSeconds = SWEEP_SECONDS,
    private readonly maxEntries = 10_000,
  ) {}
  get(key: string, now: Date): readonly MarkedAddress[] | undefined {
    const hit = this.entries.get(key);
    return hit && now.getTime() - hit.at < this.ttlSeconds * 1000 ? hit.marked : undefined;
  }
  set(key: string, marked: readonly MarkedAddress[], now: Date): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { at: now.getTime(), marked });
  }
  /** Forgets a listing (after a release, so the next call lists afresh). */
  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** What the sweep needs besides the issuer. */
export interface SweepDeps {
  readonly cache: MarkedAddressCache;
  /** The issuer check's cache key (issuer identity, generation, credentials digest). */
  readonly key: string;
  readonly clock: () => Date;
  readonly cluster?: string;
  readonly graceSeconds: number;
}

/** `status.orphans` of the issuer's previous status: each record only when it has the expected shape. */
export function previousOrphans(status: unknown): OrphanRecord[] {
  const list = typeof status === 'object' && status !== null ? (status as { orphans?: unknown }).orphans : undefined;
  return Array.isArray(list) ? list.filter((r): r is OrphanRecord => Value.Check(OrphanRecordSchema, r)) : [];
}

/**
 * UIDs and addresses of the namespace's RoutedIPs. `complete` is false when one was delivered
 * without a UID: then the view cannot prove an address is nobody's, and nothing is released.
 */
export function knownRoutedIPs(routedIPs: readonly DeliveredRoutedIP[], namespace: string): KnownRoutedIPs & { complete: boolean } {
  const uids = new Set<string>();
  const addresses = new Set<string>();
  let complete = true;
  for (const r of routedIPs) {
    if ((r.metadata.namespace ?? namespace) !== namespace) continue;
    if (r.metadata.uid === undefined || r.metadata.uid === '') complete = false;
    else uids.add(r.metadata.uid);
    const recorded = readStatusHint(r.status).address;
    if (recorded !== undefined) addresses.add(recorded);
    const adopted = typeof r.spec === 'object' && r.spec !== null ? (r.spec as { address?: unknown }).address : undefined;
    if (typeof adopted === 'string') addresses.add(adopted);
  }
  return { uids, addresses, complete };
}

const notSwept = (reason: string, message: string): SweepOutcome => ({ count: 0, released: 0, condition: isUnknown(reason, message) });

/** Runs one sweep of `cloud` for `issuer`. Never throws. */
export async function sweepOrphans(
  issuer: DeliveredIssuer,
  settings: IssuerSettings,
  cloud: RoutedIPIssuer,
  routedIPs: readonly DeliveredRoutedIP[],
  deps: SweepDeps,
): Promise<SweepOutcome> {
  const namespace = settings.namespace;
  if (!cloud.listMarkedAddresses || !cloud.releaseOrphan) {
    return notSwept('SweepNotSupported', `${settings.provider} addresses carry no mark of ours, so an orphan cannot be told from someone else's address`);
  }
  const previous = previousOrphans(issuer.status);
  const now = deps.clock();
  let marked = deps.cache.get(deps.key, now);
  try {
    if (!marked) {
      marked = await cloud.listMarkedAddresses();
      deps.cache.set(deps.key, marked, now);
    }
  } catch (err) {
    const e: IssuerError = err instanceof IssuerError ? err : toIssuerError(err);
    // What the last sweep recorded stays: its grace keeps running on the next successful sweep.
    const carried = previous.length > 0 ? { orphans: previous } : {};
    return { ...carried, count: previous.length, released: 0, condition: isUnknown(e.reason, `the sweep could not list addresses: ${e.message}`), ...(e instanceof IssuerRateLimitError ? { throttleSeconds: e.retryAfterSeconds } : {}) };
  }
  const known = knownRoutedIPs(routedIPs, namespace);
  const plan = planOrphanSweep({
    namespace,
    marked,
    known,
    ...(deps.cluster !== undefined ? { cluster: deps.cluster } : {}),
    previous,
    now,
    graceSeconds: deps.graceSeconds,
    mayRelease: settings.reclaimPolicy === 'Delete' && !settings.dryRun && known.complete,
  });
  const gone = new Set<string>();
  let failure: IssuerError | undefined;
  for (const orphan of plan.release) {
    try {
      if ((await cloud.releaseOrphan(orphan)) === 'released') gone.add(orphan.id);
    } catch (err) {
      failure = err instanceof IssuerError ? err : toIssuerError(err);
      break;
    }
  }
  if (gone.size > 0) deps.cache.delete(deps.key);
  const left = plan.orphans.filter((o) => !gone.has(o.id));
  const shown = left.slice(0, 5).map((o) => `${o.address} (${o.owner})`).join(', ');
  const why = plan.reportOnly !== undefined ? `reported only: ${plan.reportOnly}` : `released once unassociated for ${deps.graceSeconds} s`;
  const failed = failure ? `; a release failed: ${failure.message}` : '';
  const condition =
    left.length === 0
      ? isFalse('NoOrphans', `no address carrying our marks in namespace ${namespace} lacks its RoutedIP${gone.size > 0 ? ` (released ${gone.size})` : ''}${failed}`)
      : isTrue('OrphansFound', `${left.length} address${left.length === 1 ? '' : 'es'} carrying our marks whose RoutedIP is gone: ${shown}${left.length > 5 ? ', …' : ''}; ${why}${failed}`);
  return {
    ...(left.length > 0 ? { orphans: left.slice(0, MAX_ORPHAN_RECORDS) } : {}),
    count: left.length,
    released: gone.size,
    condition,
    ...(plan.dueInSeconds !== undefined ? { resyncAfterSeconds: plan.dueInSeconds } : {}),
    ...(failure instanceof IssuerRateLimitError ? { throttleSeconds: failure.retryAfterSeconds } : {}),
  };
}
