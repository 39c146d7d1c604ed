/**
 * The orphan sweep of one issuer, run by the issuer controller on its syncs (docs/design.md
 * "Orphan sweep"): list the addresses carrying our marks and the marked rules of the issuer's
 * firewall (cloud reads, cached per issuer for `SWEEP_SECONDS`, since every RoutedIP status change
 * re-syncs the issuer), plan with `plan/orphans.ts`, and remove what is due — each release or
 * revoke re-reads its subject first, under the hook's deadline and the account's rate budget like
 * every other write; a release holds the address's lock and a revoke the firewall's (like a rule
 * step of a sync), so two issuers of one account never both remove, nor both count, one orphan.
 */
import { isValid } from '../schemas/check.js';
import { IssuerError, IssuerRateLimitError, toIssuerError } from '../issuers/errors.js';
import type { MarkedAddress, MarkedRule, RoutedIPIssuer } from '../issuers/issuer.js';
import type { HookSession } from '../issuers/session.js';
import type { DeliveredRoutedIP } from '../schemas/delivered.js';
import { OrphanRecordSchema, type DeliveredIssuer, type OrphanKind, type OrphanRecord } from '../schemas/routed-ip.js';
import { planOrphanSweep, ruleKey, type KnownRoutedIPs } from '../plan/orphans.js';
import { isFalse, isTrue, isUnknown, type ConditionValue } from './conditions.js';
import type { IssuerSettings } from './context.js';
import { readStatusHint } from './hints.js';

/** Seconds a listing of marked addresses and rules is reused by the syncs of one issuer. */
export const SWEEP_SECONDS = 60;

/** Counts per kind of orphan. */
export type KindCounts = Readonly<Record<OrphanKind, number>>;

/**
 * Which cloud objects a sweep found orphaned: one object is one orphan whichever issuers see it,
 * so the metric counts `(scope, kind, id)` once (`OrphanTally`).
 */
export interface OrphanSighting {
  /** Where the ids name one object: the issuer's `objectScope`, else its session's account. */
  readonly scope: string;
  /** Ids (as `OrphanRecord.id`) of every orphan left, per kind, unbounded. */
  readonly ids: Readonly<Record<OrphanKind, readonly string[]>>;
}

/** What one sweep found and did. */
export interface SweepOutcome {
  /** `status.orphans` (absent when there are none, or the cloud cannot be swept). */
  readonly orphans?: readonly OrphanRecord[];
  /** How many orphans of each kind there are (the record list is bounded). */
  readonly count: KindCounts;
  /** How many of each kind this call removed (not counting what it found gone already). */
  readonly removed: KindCounts;
  /** What this sweep's listing found (absent when it could not list: the last sighting stands). */
  readonly seen?: OrphanSighting;
  readonly condition: ConditionValue;
  /** Resync this soon to remove an orphan once its grace is over. */
  readonly resyncAfterSeconds?: number;
  /** The cloud's rate budget is spent: answer 429 with this Retry-After. */
  readonly throttleSeconds?: number;
}

/** No orphans of either kind. */
export const NO_ORPHANS: KindCounts = { address: 0, rule: 0 };

/** No orphan ids of either kind. */
const NO_IDS: OrphanSighting['ids'] = { address: [], rule: [] };

/** How many of `records` are of each kind. */
export const kindCounts = (records: readonly OrphanRecord[]): KindCounts => ({
  address: records.filter((r) => r.kind !== 'rule').length,
  rule: records.filter((r) => r.kind === 'rule').length,
});

/** One sweep listing: the marked addresses, and the marked rule pairs of the issuer's firewall. */
export interface SweepListing {
  readonly addresses: readonly MarkedAddress[];
  readonly rules: readonly MarkedRule[];
}

/** Listings by issuer key, each reused for `ttlSeconds`. */
export class SweepListingCache {
  private readonly entries = new Map<string, { at: number; listing: SweepListing }>();
  constructor(
    private readonly ttlSeconds = SWEEP_SECONDS,
    private readonly maxEntries = 10_000,
  ) {}
  get(key: string, now: Date): SweepListing | undefined {
    const hit = this.entries.get(key);
    return hit && now.getTime() - hit.at < this.ttlSeconds * 1000 ? hit.listing : undefined;
  }
  set(key: string, listing: SweepListing, now: Date): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { at: now.getTime(), listing });
  }
  /** Forgets a listing (after a removal, so the next call lists afresh). */
  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** What the sweep needs besides the issuer. */
export interface SweepDeps {
  readonly cache: SweepListingCache;
  /** The issuer check's cache key (issuer identity, generation, credentials digest). */
  readonly key: string;
  readonly clock: () => Date;
  readonly cluster?: string;
  readonly graceSeconds: number;
  /** The hook call's session: a revoke holds the firewall's lock, as a sync's rule step does. */
  readonly session: HookSession;
}

/** `status.orphans` of the issuer's previous status: each record only when it has the expected shape. */
export function previousOrphans(status: unknown): OrphanRecord[] {
  const list = typeof status === 'object' && status !== null ? (status as { orphans?: unknown }).orphans : undefined;
  return Array.isArray(list) ? list.filter((r): r is OrphanRecord => isValid(OrphanRecordSchema, r)) : [];
}

/**
 * UIDs, names, addresses and firewall pairs of the namespace's RoutedIPs. `complete` is false
 * when one was delivered without a UID: then the view cannot prove an address is nobody's, and
 * nothing is removed.
 */
export function knownRoutedIPs(routedIPs: readonly DeliveredRoutedIP[], namespace: string): KnownRoutedIPs & { complete: boolean } {
  const uids = new Set<string>();
  const names = new Set<string>();
  const addresses = new Set<string>();
  const rulesInUse = new Set<string>();
  let complete = true;
  for (const r of routedIPs) {
    if ((r.metadata.namespace ?? namespace) !== namespace) continue;
    names.add(r.metadata.name);
    if (r.metadata.uid === undefined || r.metadata.uid === '') complete = false;
    else uids.add(r.metadata.uid);
    const hint = readStatusHint(r.status);
    if (hint.address !== undefined) addresses.add(hint.address);
    const adopted = typeof r.spec === 'object' && r.spec !== null ? (r.spec as { address?: unknown }).address : undefined;
    if (typeof adopted === 'string') addresses.add(adopted);
    const fw = hint.firewall;
    if (!fw) continue;
    for (const p of fw.ports) {
      if (fw.sources === undefined) rulesInUse.add(ruleKey(fw.id, p));
      else for (const s of fw.sources) rulesInUse.add(ruleKey(fw.id, p, s));
    }
    for (const a of fw.addedPorts) {
      if (a.sources === undefined) rulesInUse.add(ruleKey(fw.id, a));
      else for (const s of a.sources) rulesInUse.add(ruleKey(fw.id, a, s));
    }
  }
  return { uids, names, addresses, rulesInUse, complete };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "2 addresses and 1 rule" (kinds with none left out). */
function describeCounts(c: KindCounts): string {
  const parts = [c.address > 0 ? plural(c.address, 'address', 'addresses') : '', c.rule > 0 ? plural(c.rule, 'rule', 'rules') : ''].filter((p) => p !== '');
  return parts.join(' and ');
}

/** An orphan as the condition names it. */
const shown = (o: OrphanRecord): string => (o.kind === 'rule' ? `rule ${o.rule ?? o.id} on ${o.firewall ?? '?'} (${o.owner})` : `${o.address ?? o.id} (${o.owner})`);

/** Lists what the sweep judges: the marked addresses, and the marked rules of the issuer's firewall (clouds that mark rules). */
async function list(cloud: RoutedIPIssuer, settings: IssuerSettings): Promise<SweepListing> {
  const addresses = (await cloud.listMarkedAddresses?.()) ?? [];
  const rules = settings.firewallName !== undefined && cloud.listMarkedRules ? await cloud.listMarkedRules(settings.firewallName) : [];
  return { addresses, rules };
}

/** Runs one sweep of `cloud` for `issuer`. Never throws. */
export async function sweepOrphans(
  issuer: DeliveredIssuer,
  settings: IssuerSettings,
  cloud: RoutedIPIssuer,
  routedIPs: readonly DeliveredRoutedIP[],
  deps: SweepDeps,
): Promise<SweepOutcome> {
  const namespace = settings.namespace;
  // Where the ids name one object; the removals lock by it too, since issuers with credentials of
  // their own (other account keys) reach the same objects.
  const scope = cloud.objectScope ?? deps.session.account;
  if (!cloud.listMarkedAddresses || !cloud.releaseOrphan) {
    return { count: NO_ORPHANS, removed: NO_ORPHANS, seen: { scope, ids: NO_IDS }, condition: isUnknown('SweepNotSupported', `${settings.provider} addresses carry no mark of ours, so an orphan cannot be told from someone else's address`) };
  }
  const previous = previousOrphans(issuer.status);
  const now = deps.clock();
  let listing = deps.cache.get(deps.key, now);
  try {
    if (!listing) {
      // Stored answers of the account may serve the listing (the credential check has just read
      // the firewall): a judgement waits a grace anyway, and every removal reads afresh.
      listing = await deps.session.withReads('cached', () => list(cloud, settings));
      deps.cache.set(deps.key, listing, now);
    }
  } catch (err) {
    const e: IssuerError = err instanceof IssuerError ? err : toIssuerError(err);
    // What the last sweep recorded stays: its grace keeps running on the next successful sweep.
    const carried = previous.length > 0 ? { orphans: previous } : {};
    return { ...carried, count: kindCounts(previous), removed: NO_ORPHANS, condition: isUnknown(e.reason, `the sweep could not list what carries our marks: ${e.message}`), ...(e instanceof IssuerRateLimitError ? { throttleSeconds: e.retryAfterSeconds } : {}) };
  }
  const known = knownRoutedIPs(routedIPs, namespace);
  const plan = planOrphanSweep({
    namespace,
    marked: listing.addresses,
    rules: listing.rules,
    known,
    ...(deps.cluster !== undefined ? { cluster: deps.cluster } : {}),
    previous,
    now,
    graceSeconds: deps.graceSeconds,
    mayRelease: settings.reclaimPolicy === 'Delete' && !settings.dryRun && known.complete,
  });
  const gone = new Set<string>();
  const removed = { address: 0, rule: 0 };
  let failure: IssuerError | undefined;
  try {
    const release = cloud.releaseOrphan.bind(cloud);
    for (const orphan of plan.release) {
      // Another issuer of the account may sweep the same address now: one of them releases it,
      // the other's fresh read finds it gone, and the release is counted once.
      const lock = [`${scope}/address/${orphan.id}`];
      const done = await deps.session.serialize(lock, 'releasing an orphaned address', () => release(orphan));
      if (done === 'kept') continue;
      gone.add(orphan.id);
      if (done === 'released') removed.address++;
    }
    const revoke = cloud.revokeOrphanRule?.bind(cloud);
    if (revoke) {
      for (const orphan of plan.revoke) {
        const lock = [deps.session.accountKey(`firewall/${orphan.firewall}`), `${scope}/firewall/${orphan.firewall}`];
        const done = await deps.session.serialize(lock, 'revoking an orphaned rule', () => revoke(orphan));
        if (done === 'kept') continue;
        gone.add(ruleKey(orphan.firewall, orphan, orphan.source));
        if (done === 'revoked') removed.rule++;
      }
    }
  } catch (err) {
    failure = err instanceof IssuerError ? err : toIssuerError(err);
  }
  if (gone.size > 0) deps.cache.delete(deps.key);
  const left = plan.orphans.filter((o) => !gone.has(o.id));
  const ids = { address: plan.ids.address.filter((id) => !gone.has(id)), rule: plan.ids.rule.filter((id) => !gone.has(id)) };
  const count = { address: ids.address.length, rule: ids.rule.length };
  const total = count.address + count.rule;
  const names = left.slice(0, 5).map(shown).join(', ');
  const why = plan.reportOnly !== undefined ? `reported only: ${plan.reportOnly}` : `released once orphaned and unassociated for ${deps.graceSeconds} s (addresses), revoked once orphaned for ${deps.graceSeconds} s (rules)`;
  const failed = failure ? `; a removal failed: ${failure.message}` : '';
  const did = removed.address + removed.rule > 0 ? ` (removed ${describeCounts(removed)})` : '';
  const condition =
    total === 0
      ? isFalse('NoOrphans', `nothing carrying our marks in namespace ${namespace} lacks its RoutedIP${did}${failed}`)
      : isTrue('OrphansFound', `${describeCounts(count)} carrying our marks whose RoutedIP is gone: ${names}${total > 5 ? ', …' : ''}; ${why}${failed}`);
  return {
    ...(left.length > 0 ? { orphans: left } : {}),
    count,
    removed,
    seen: { scope, ids },
    condition,
    ...(plan.dueInSeconds !== undefined ? { resyncAfterSeconds: plan.dueInSeconds } : {}),
    ...(failure instanceof IssuerRateLimitError ? { throttleSeconds: failure.retryAfterSeconds } : {}),
  };
}
