/**
 * The orphan sweep's plan, pure: which marked addresses of an issuer's account are orphans (their
 * RoutedIP is gone), when each was first seen so, and which may be released now.
 *
 * The sweep is stateless like everything else: the first time an address is seen orphaned is
 * recorded in the issuer's status (`status.orphans[].since`) and read back from `parent.status`,
 * as a create intent is. An address is released only when all hold:
 * - it carries THIS cluster's mark (`CLUSTER_NAME`): a shared account may hold other clusters'
 *   addresses, whose RoutedIPs this cluster cannot see. Without a configured cluster name nothing
 *   is ever released, only reported;
 * - its RoutedIP's namespace is the issuer's (the issuer controller sees that namespace's
 *   RoutedIPs only), and no RoutedIP of that namespace has its UID, records it in `status.address`
 *   or adopts it in `spec.address`;
 * - an earlier status already recorded it orphaned, at least `graceSeconds` ago: a RoutedIP created
 *   a moment ago whose UID this view does not show yet is seen again, and its record dropped,
 *   long before that (a stale `parent.status` only lacks records, which restarts the grace);
 * - it is associated with nothing (the release re-reads it first and keeps it otherwise);
 * - the reclaim policy is `Delete` and the issuer is not a dry run.
 */
import type { MarkedAddress, OrphanRelease } from '../issuers/issuer.js';
import type { OrphanRecord } from '../schemas/routed-ip.js';

/** Default grace (seconds) an orphan stays recorded before the sweep may release it. */
export const DEFAULT_ORPHAN_GRACE_SECONDS = 600;

/** At most this many releases per hook call: each is a fresh read and a write, inside the deadline. */
export const MAX_RELEASES_PER_CALL = 3;

/** What the issuer controller sees of the RoutedIPs of the issuer's namespace. */
export interface KnownRoutedIPs {
  /** Every RoutedIP UID of the namespace (deleting ones included: their finalize owns their address). */
  readonly uids: ReadonlySet<string>;
  /** Every address a RoutedIP of the namespace records (`status.address`) or adopts (`spec.address`). */
  readonly addresses: ReadonlySet<string>;
}

/** Everything the sweep decides from. */
export interface SweepInput {
  /** The issuer's namespace. */
  readonly namespace: string;
  /** Addresses carrying our UID mark, as listed. */
  readonly marked: readonly MarkedAddress[];
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
  /** Every orphan in scope, sorted by id, with when it was first seen orphaned. */
  readonly orphans: readonly OrphanRecord[];
  /** Orphans due for release now (at most `MAX_RELEASES_PER_CALL`), oldest first. */
  readonly release: readonly OrphanRelease[];
  /** Seconds until the next orphan becomes due, when one will. */
  readonly dueInSeconds?: number;
  /** Why orphans are only reported, when none may ever be released. */
  readonly reportOnly?: string;
}

/** The namespace an address's marks name, from its namespace mark or its `namespace/name` owner mark. */
function namespaceOf(a: MarkedAddress): string | undefined {
  if (a.namespace !== undefined) return a.namespace;
  const slash = a.owner?.indexOf('/') ?? -1;
  return slash > 0 ? a.owner?.slice(0, slash) : undefined;
}

/** Time stamp format of `metav1.Time` (second precision). */
const stamp = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Plans one sweep. In scope are addresses of the issuer's namespace carrying this cluster's mark
 * or no cluster mark at all (made before marks, or by an operator without `CLUSTER_NAME`: they are
 * reported, never released, since another cluster may have made them); another cluster's mark is
 * never ours to judge, nor reported.
 */
export function planOrphanSweep(input: SweepInput): SweepPlan {
  const { cluster, known, now, graceSeconds } = input;
  const before = new Map(input.previous.map((r) => [r.id, r]));
  const orphans: OrphanRecord[] = [];
  const due: Array<{ release: OrphanRelease; since: number }> = [];
  let dueIn: number | undefined;
  for (const a of input.marked) {
    if (namespaceOf(a) !== input.namespace) continue;
    if (a.cluster !== undefined && a.cluster !== cluster) continue;
    if (known.uids.has(a.uid) || known.addresses.has(a.address)) continue;
    const owner = a.owner ?? `uid ${a.uid}`;
    const seen = before.get(a.id);
    const record: OrphanRecord = { id: a.id, address: a.address, owner, since: seen && seen.address === a.address ? seen.since : stamp(now) };
    orphans.push(record);
    const releasable = input.mayRelease && cluster !== undefined && a.cluster === cluster && !a.associated;
    if (!releasable) continue;
    // First seen now: due one grace from now, if it stays so.
    if (!seen) {
      dueIn = Math.min(dueIn ?? graceSeconds, graceSeconds);
      continue;
    }
    const since = Date.parse(record.since);
    if (Number.isNaN(since)) continue;
    const left = Math.ceil((since + graceSeconds * 1000 - now.getTime()) / 1000);
    if (left <= 0) due.push({ release: { id: a.id, uid: a.uid, cluster }, since });
    else dueIn = Math.min(dueIn ?? left, left);
  }
  // More are due than one call releases: the next call comes at once.
  if (due.length > MAX_RELEASES_PER_CALL) dueIn = 1;
  orphans.sort((x, y) => x.id.localeCompare(y.id));
  due.sort((x, y) => x.since - y.since || x.release.id.localeCompare(y.release.id));
  const reportOnly =
    cluster === undefined ? 'CLUSTER_NAME is not set, so this operator cannot tell its addresses from those of another cluster'
    : !input.mayRelease ? 'the reclaim policy is Retain or the issuer is a dry run'
    : undefined;
  return {
    orphans,
    release: due.slice(0, MAX_RELEASES_PER_CALL).map((d) => d.release),
    ...(dueIn !== undefined ? { dueInSeconds: Math.max(1, dueIn) } : {}),
    ...(reportOnly !== undefined ? { reportOnly } : {}),
  };
}
