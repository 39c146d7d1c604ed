/**
 * The state of one simulated cloud account, as plain data. Tests see it through snapshots
 * (`MemoryCloud.snapshot`), which are deep copies: nothing a test holds aliases the cloud.
 */
import type { FirewallRule } from '../issuer.js';

/** Tag carrying the owning RoutedIP's UID: the memory cloud's leak guard (like AWS tags). */
export const UID_TAG = 'routedip.io/uid';
/** Tag carrying the owning RoutedIP's `namespace/name`, for humans reading a snapshot. */
export const OWNER_TAG = 'routedip.io/owner';

/** A routed IP in the account. `id` is never reused, even when `address` is. */
export interface MemoryIP {
  address: string;
  id: string;
  /** Machine (node name) the IP points at; absent = unassigned. */
  holder?: string;
  /** Cloud tags; `createRoutedIP` sets UID_TAG and OWNER_TAG in the same step as the allocation. */
  tags: Record<string, string>;
}

/**
 * One inbound rule as the cloud stores it. Several entries may exist for one port (a foreign
 * rule and ours); observation merges them per (protocol, port). Rules carry no ownership marks
 * (like DigitalOcean), so the core must rely on `status.firewall` for ownership.
 */
export interface MemoryRule {
  protocol: 'tcp' | 'udp';
  port: number;
  sources: string[];
}

/** A firewall in the account. `nodes` are machine ids (node names). */
export interface MemoryFirewall {
  id: string;
  name: string;
  rules: MemoryRule[];
  nodes: string[];
}

/** A deep copy of one account's state, sorted for stable comparisons. */
export interface MemoryAccountSnapshot {
  account: string;
  ipLimit: number;
  ips: MemoryIP[];
  firewalls: MemoryFirewall[];
}

/** Rules merged per (protocol, port), sources unioned and sorted; ports sorted. */
export function mergeRules(rules: readonly MemoryRule[]): FirewallRule[] {
  const merged = new Map<string, { protocol: 'tcp' | 'udp'; port: number; sources: Set<string> }>();
  for (const rule of rules) {
    const key = `${rule.protocol}/${rule.port}`;
    const entry = merged.get(key) ?? { protocol: rule.protocol, port: rule.port, sources: new Set<string>() };
    for (const source of rule.sources) entry.sources.add(source);
    merged.set(key, entry);
  }
  return [...merged.values()]
    .sort((a, b) => (a.protocol === b.protocol ? a.port - b.port : a.protocol < b.protocol ? -1 : 1))
    .map((r) => ({ protocol: r.protocol, port: r.port, sources: [...r.sources].sort() }));
}

/** Numeric order of ids like `ip-2` < `ip-10`. */
export const byId = (a: { id: string }, b: { id: string }): number =>
  a.id.length === b.id.length ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.id.length - b.id.length;
