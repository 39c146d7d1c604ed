/**
 * ElectRoutedIPNode: sticky, deterministic election that spreads RoutedIPs over nodes.
 *
 * 1. The node holding the IP keeps it while it stays eligible (moving an IP drops connections),
 *    or while it is ineligible within its failover grace (`keepHolder`, see `failover.ts`).
 * 2. Else the node elected last time, if still eligible (a move in progress is finished, not redone).
 * 3. Else a fresh choice: the nodes with the highest `spec.nodePreference` score first (the user
 *    asked for them), among those the nodes holding no other RoutedIP (spread, and DigitalOcean
 *    allows one reserved IP per droplet), then rendezvous hashing on (RoutedIP uid, node name), so
 *    the same inputs always give the same node and different RoutedIPs prefer different nodes.
 * Nodes whose machine already holds another address (`occupied`) are never elected anew.
 * No eligible node: nothing is elected and the IP stays where it is.
 */
import { hash } from 'node:crypto';
import type { JudgedNode } from './eligibility.js';

/** Inputs of the election; node names are Kubernetes names. */
export interface ElectionInput {
  readonly ownerUid: string;
  readonly nodes: readonly JudgedNode[];
  /** Node currently holding the IP, as observed in the cloud. */
  readonly holder?: string;
  /** `status.electedNode` from the last sync. */
  readonly previous?: string;
  /** Nodes other RoutedIPs hold or were elected to (avoided when others are free). */
  readonly taken: ReadonlySet<string>;
  /**
   * Nodes that cannot take this IP: their machine already holds another address and the cloud
   * allows one per machine (DigitalOcean). Never elected, except as the current holder.
   */
  readonly occupied?: ReadonlySet<string>;
  /** `spec.nodePreference` score of each node (`preferenceScores`); absent = no preference. */
  readonly preference?: ReadonlyMap<string, number>;
  /** The holder is ineligible but within its failover grace: it keeps the IP. */
  readonly keepHolder?: boolean;
}

/**
 * Why the node was chosen, for the step detail. `grace`: the ineligible holder keeps the IP for
 * its failover grace. `occupied`: eligible nodes exist, but every one already holds another address.
 */
export type ElectionReason = 'holder' | 'grace' | 'previous' | 'fresh' | 'none' | 'occupied';

/** The election result: `node` undefined when nothing is eligible. */
export interface Election {
  readonly node?: string;
  readonly reason: ElectionReason;
}

/** Weights computed, by `uid\0node`; cleared when full, so it stays bounded with any churn of names. */
const weights = new Map<string, bigint>();
/** Entries `weights` holds at most (a few MiB): every RoutedIP × Node pair of a large cluster. */
const MAX_WEIGHTS = 20_000;

/**
 * Rendezvous weight: a stable 64-bit number per (uid, node), the first 8 bytes of a SHA-256. A
 * standby election weighs every eligible node on every sync, and the pairs rarely change, so each
 * weight is hashed once and then remembered (a pure function of its key: the cache changes no result).
 */
const weight = (uid: string, node: string): bigint => {
  const key = `${uid}\u0000${node}`;
  let w = weights.get(key);
  if (w === undefined) {
    if (weights.size >= MAX_WEIGHTS) weights.clear();
    w = hash('sha256', key, 'buffer').readBigUInt64BE(0);
    weights.set(key, w);
  }
  return w;
};

/** Elects the node that will hold the IP. Pure. */
export function electNode(input: ElectionInput): Election {
  const all = input.nodes.filter((n) => n.eligible).map((n) => n.name);
  if (input.holder !== undefined && all.includes(input.holder)) return { node: input.holder, reason: 'holder' };
  if (input.holder !== undefined && input.keepHolder === true && input.nodes.some((n) => n.name === input.holder && n.target)) return { node: input.holder, reason: 'grace' };
  const eligible = all.filter((n) => !input.occupied?.has(n));
  if (eligible.length === 0) return { reason: all.length === 0 ? 'none' : 'occupied' };
  if (input.previous !== undefined && eligible.includes(input.previous)) return { node: input.previous, reason: 'previous' };
  const score = (n: string) => input.preference?.get(n) ?? 0;
  const top = Math.max(...eligible.map(score));
  const preferred = eligible.filter((n) => score(n) === top);
  const free = preferred.filter((n) => !input.taken.has(n));
  const pool = free.length > 0 ? free : preferred;
  let best = pool[0] as string;
  let bestWeight = weight(input.ownerUid, best);
  for (const candidate of pool.slice(1)) {
    const w = weight(input.ownerUid, candidate);
    if (w > bestWeight || (w === bestWeight && candidate < best)) {
      best = candidate;
      bestWeight = w;
    }
  }
  return { node: best, reason: 'fresh' };
}
