/**
 * The orphan sweep's plan, pure: which marked addresses and firewall rules of an issuer's account
 * are orphans (their RoutedIP is gone), when each was first seen so, and which may be removed now.
 *
 * The sweep is stateless like everything else: the first time an orphan is seen is recorded in
 * the issuer's status (`status.orphans[].since`) and read back from `parent.status`, as a create
 * intent is. Something is removed only when all hold:
 * - it carries THIS cluster's mark (`CLUSTER_NAME`): a shared account or firewall may hold other
 *   clusters' addresses and rules, whose RoutedIPs this cluster cannot see. Without a configured
 *   cluster name nothing is ever removed, only reported;
 * - its RoutedIP's namespace is the issuer's (the issuer controller sees that namespace's
 *   RoutedIPs only), and no RoutedIP of that namespace owns or uses it — an address: has its UID,
 *   records it in `status.address` or adopts it in `spec.address`; a rule (one port and source of
 *   the issuer's firewall): is named by its mark, or records or needs that pair in
 *   `status.firewall` (a live RoutedIP sharing a port with a gone one keeps the pair open);
 * - an earlier status already recorded it orphaned, at least `graceSeconds` ago: a RoutedIP created
 *   a moment ago whose UID or name this view does not show yet is seen again, and its record
 *   dropped, long before that (a stale `parent.status` only lacks records, which restarts the grace);
 * - an address is associated with nothing (the release re-reads it first and keeps it otherwise);
 *   a rule still carries exactly the mark listed (the revoke re-reads it first);
 * - the reclaim policy is `Delete` and the issuer is not a dry run.
 *
 * Orphans without a cluster mark (made before cluster marks, or by an operator without
 * `CLUSTER_NAME`) are reported, never removed: another cluster may have made them. Another
 * cluster's are neither judged nor reported.
 */
import type { MarkedAddress, MarkedRule, OrphanRelease, RuleRevoke } from '../issuers/issuer.js';
import { markedOwner } from '../issuers/marks.js';
import { MAX_ORPHAN_RECORDS, type FirewallPort, type OrphanKind, type OrphanRecord } from '../schemas/routed-ip.js';

/** Default grace (seconds) an orphan stays recorded before the sweep may remove it. */
export const DEFAULT_ORPHAN_GRACE_SECONDS = 600;

/** At most this many removals (releases and revokes) per hook call: each is a fresh read and a write, inside the deadline. */
export const MAX_RELEASES_PER_CALL = 3;

/** What the issuer controller sees of the RoutedIPs of the issuer's namespace. */
export interface KnownRoutedIPs {
  /** Every RoutedIP UID of the namespace (deleting ones included: their finalize owns their address). */
  readonly uids: ReadonlySet<string>;
  /** Every address a RoutedIP of the namespace records (`status.address`) or adopts (`spec.address`). */
  readonly addresses: ReadonlySet<string>;
  /** Every RoutedIP name of the namespace (deleting ones included: their finalize owns their rules). */
  readonly names: ReadonlySet<string>;
  /**
   * Every firewall pair a RoutedIP of the namespace records as added or needs (`status.firewall`),
   * as `ruleKey(firewall, port, source)`, or `ruleKey(firewall, port)` for a need recorded
   * without sources (it needs every source of the port).
   */
  readonly rulesInUse: ReadonlySet<string>;
}

/** Everything the sweep decides from. */
export interface SweepInput {
  /** The issuer's namespace. */
  readonly namespace: string;
  /** Addresses carrying our UID mark, as listed. */
  readonly marked: readonly MarkedAddress[];
  /** Pairs of the issuer's firewall whose rules carry a RoutedIP mark, as listed. */
  readonly rules: readonly MarkedRule[];
  readonly known: KnownRoutedIPs;
  /** This cluster's identity; absent = report only. */
  readonly cluster?: string;
  /** `status.orphans` of the issuer's previous status (a hint; may be stale or lost). */
  readonly previous: readonly OrphanRecord[];
  readonly now: Date;
  readonly graceSeconds: number;
  /** Reclaim policy `Delete` and not a dry run. */
  readonly mayRelease: boolean;
}

/** What the sweep found and may do. */
export interface SweepPlan {
  /**
   * Orphans in scope, at most `MAX_ORPHAN_RECORDS` (removable ones first, then the longest
   * recorded), sorted by kind and id, each with when it was first seen orphaned.
   */
  readonly orphans: readonly OrphanRecord[];
  /** How many orphans of each kind are in scope (`orphans` is bounded). */
  readonly counts: Readonly<Record<OrphanKind, number>>;
  /** The id of every orphan in scope (as `OrphanRecord.id`), per kind, sorted and unbounded: what the metric counts. */
  readonly ids: Readonly<Record<OrphanKind, readonly string[]>>;
  /** Addresses due for release now, oldest first. */
  readonly release: readonly OrphanRelease[];
  /** Rules due for revoking now, oldest first. Releases and revokes together: at most `MAX_RELEASES_PER_CALL`. */
  readonly revoke: readonly RuleRevoke[];
  /** Seconds until the next orphan becomes due, when one will. */
  readonly dueInSeconds?: number;
  /** Why orphans are only reported, when none may ever be removed. */
  readonly reportOnly?: string;
}

/** Key of one firewall pair (`sg-1 tcp/443 0.0.0.0/0`), or of a whole port without `source`: a rule record's id. */
export const ruleKey = (firewall: string, p: FirewallPort, source?: string): string =>
  `${firewall} ${p.protocol}/${p.port}${source !== undefined ? ` ${source}` : ''}`;

/** The namespace an address's marks name, from its namespace mark or its `namespace/name` owner mark. */
function namespaceOf(a: MarkedAddress): string | undefined {
  if (a.namespace !== undefined) return a.namespace;
  const slash = a.owner?.indexOf('/') ?? -1;
  return slash > 0 ? a.owner?.slice(0, slash) : undefined;
}

/** Time stamp format of `metav1.Time` (second precision). */
const stamp = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** One orphan found, before bounding. */
interface Found {
  readonly record: OrphanRecord;
  /** May be removed once due (this cluster's mark, policy allows, unassociated). */
  readonly removable: boolean;
  readonly remove: { readonly kind: 'address'; readonly release: OrphanRelease } | { readonly kind: 'rule'; readonly revoke: RuleRevoke };
  /** The record existed in the previous status with the same subject. */
  readonly seen: boolean;
}

const kindOf = (r: OrphanRecord): OrphanKind => r.kind ?? 'address';
/** Code-point order: the same bytes whatever the runtime's locale data. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byKindAndId = (x: OrphanRecord, y: OrphanRecord) => compare(kindOf(x), kindOf(y)) || compare(x.id, y.id);

/** The orphaned addresses in scope. */
function orphanAddresses(input: SweepInput, before: ReadonlyMap<string, OrphanRecord>): Found[] {
  const { cluster, known, now } = input;
  const found: Found[] = [];
  for (const a of input.marked) {
    if (namespaceOf(a) !== input.namespace) continue;
    if (a.cluster !== undefined && a.cluster !== cluster) continue;
    if (known.uids.has(a.uid) || known.addresses.has(a.address)) continue;
    const prior = before.get(a.id);
    const seen = prior !== undefined && kindOf(prior) === 'address' && prior.address === a.address;
    const record: OrphanRecord = { kind: 'address', id: a.id, address: a.address, owner: a.owner ?? `uid ${a.uid}`, since: seen ? prior.since : stamp(now) };
    const removable = input.mayRelease && cluster !== undefined && a.cluster === cluster && !a.associated;
    found.push({ record, removable, seen, remove: { kind: 'address', release: { id: a.id, uid: a.uid, cluster: cluster ?? '' } } });
  }
  return found;
}

/** The orphaned rule pairs in scope (each pair once, whatever number of rules list it). */
function orphanRules(input: SweepInput, before: ReadonlyMap<string, OrphanRecord>): Found[] {
  const { cluster, known, now, namespace } = input;
  const owners = new Map<string | undefined, Set<string>>();
  // Marks name `namespace/name` (a long name as a digest): the known names, marked the same way.
  const ownersFor = (c: string | undefined) => {
    let set = owners.get(c);
    if (!set) owners.set(c, (set = new Set([...known.names].map((name) => markedOwner({ namespace, name }, c)))));
    return set;
  };
  const found = new Map<string, Found>();
  for (const r of input.rules) {
    if (r.namespace !== namespace) continue;
    if (r.cluster !== undefined && r.cluster !== cluster) continue;
    if (ownersFor(r.cluster).has(r.owner)) continue;
    const id = ruleKey(r.firewall, r, r.source);
    if (found.has(id) || known.rulesInUse.has(id) || known.rulesInUse.has(ruleKey(r.firewall, r))) continue;
    const prior = before.get(id);
    const seen = prior !== undefined && kindOf(prior) === 'rule' && prior.owner === r.owner;
    const record: OrphanRecord = { kind: 'rule', id, firewall: r.firewall, rule: `${r.protocol}/${r.port} ${r.source}`, owner: r.owner, since: seen ? prior.since : stamp(now) };
    const removable = input.mayRelease && cluster !== undefined && r.cluster === cluster;
    found.set(id, { record, removable, seen, remove: { kind: 'rule', revoke: { firewall: r.firewall, protocol: r.protocol, port: r.port, source: r.source, mark: r.mark } } });
  }
  return [...found.values()];
}

/**
 * Plans one sweep. In scope are addresses and rules of the issuer's namespace carrying this
 * cluster's mark or no cluster mark at all (made before marks, or by an operator without
 * `CLUSTER_NAME`: they are reported, never removed, since another cluster may have made them);
 * another cluster's mark is never ours to judge, nor reported.
 */
export function planOrphanSweep(input: SweepInput): SweepPlan {
  const { cluster, now, graceSeconds } = input;
  const before = new Map(input.previous.map((r) => [r.id, r]));
  const found = [...orphanAddresses(input, before), ...orphanRules(input, before)];
  const due: Array<{ found: Found; since: number }> = [];
  let dueIn: number | undefined;
  for (const f of found) {
    if (!f.removable) continue;
    // First seen now: due one grace from now, if it stays so.
    if (!f.seen) {
      dueIn = Math.min(dueIn ?? graceSeconds, graceSeconds);
      continue;
    }
    const since = Date.parse(f.record.since);
    if (Number.isNaN(since)) continue;
    const left = Math.ceil((since + graceSeconds * 1000 - now.getTime()) / 1000);
    if (left <= 0) due.push({ found: f, since });
    else dueIn = Math.min(dueIn ?? left, left);
  }
  // More are due than one call removes: the next call comes at once.
  if (due.length > MAX_RELEASES_PER_CALL) dueIn = 1;
  due.sort((x, y) => x.since - y.since || byKindAndId(x.found.record, y.found.record));
  const now_ = due.slice(0, MAX_RELEASES_PER_CALL).map((d) => d.found.remove);
  // Bounded records: the removable ones first (their grace must keep running), then the oldest.
  const kept = [...found]
    .sort((x, y) => Number(y.removable) - Number(x.removable) || compare(x.record.since, y.record.since) || byKindAndId(x.record, y.record))
    .slice(0, MAX_ORPHAN_RECORDS)
    .map((f) => f.record)
    .sort(byKindAndId);
  const reportOnly =
    cluster === undefined ? 'CLUSTER_NAME is not set, so this operator cannot tell its addresses and rules from those of another cluster'
    : !input.mayRelease ? 'the reclaim policy is Retain or the issuer is a dry run'
    : undefined;
  const idsOf = (kind: OrphanKind) => found.filter((f) => f.remove.kind === kind).map((f) => f.record.id).sort(compare);
  const ids = { address: idsOf('address'), rule: idsOf('rule') };
  return {
    orphans: kept,
    counts: { address: ids.address.length, rule: ids.rule.length },
    ids,
    release: now_.flatMap((r) => (r.kind === 'address' ? [r.release] : [])),
    revoke: now_.flatMap((r) => (r.kind === 'rule' ? [r.revoke] : [])),
    ...(dueIn !== undefined ? { dueInSeconds: Math.max(1, dueIn) } : {}),
    ...(reportOnly !== undefined ? { reportOnly } : {}),
  };
}
