/**
 * Pure translations between DigitalOcean objects and the issuer contract's shapes.
 */
import type { FirewallRule, ObservedFirewall, PendingAction } from '../issuer.js';
import type { DOAction, DOFirewall, DOInboundRule } from './client.js';

const PROVIDER_PREFIX = 'digitalocean://';

/**
 * The droplet id of a `spec.providerID`, as the DigitalOcean CCM sets it (`digitalocean://123`),
 * or `undefined` when it does not parse (empty, other provider, not a positive integer).
 */
export function dropletIdFromProviderID(providerID: string | undefined): string | undefined {
  if (!providerID?.startsWith(PROVIDER_PREFIX)) return undefined;
  const id = providerID.slice(PROVIDER_PREFIX.length);
  return /^[1-9]\d{0,15}$/.test(id) && Number.isSafeInteger(Number(id)) ? id : undefined;
}

/** A droplet id string (from a NodeTarget or status) as the API's integer; undefined if invalid. */
export function dropletNumber(id: string): number | undefined {
  return /^[1-9]\d{0,15}$/.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : undefined;
}

/** Action type on the wire → the contract's verb. */
function actionVerb(type: string): string {
  if (type === 'assign_ip' || type === 'assign') return 'assign';
  if (type === 'unassign_ip' || type === 'unassign') return 'unassign';
  return type;
}

/**
 * The contract's pending action for a DigitalOcean action. `target` is left out on purpose: an
 * action read back from the API does not name its Droplet, and the status must read the same
 * whether it came from the assign's answer or from a later poll.
 */
export function pendingActionOf(action: DOAction): PendingAction {
  return { id: String(action.id), type: actionVerb(action.type) };
}

/** An IP is `locked` but its action is not queryable yet (DigitalOcean's action 404 race). */
export const UNKNOWN_ACTION: PendingAction = { id: 'unknown', type: 'locked' };

const SINGLE_PORT = /^[1-9]\d{0,4}$/;

/**
 * The firewall as the contract sees it: inbound TCP/UDP rules on one port, merged per
 * (protocol, port) with their CIDR sources. Port ranges, "0"/"all" and ICMP rules are someone
 * else's and invisible here, so they are never changed. Droplets with a change still pending
 * are listed (the core must not add them twice); the issuer waits on them before an assign.
 * With tag membership the firewall's nodes are its Droplets plus, once it carries the issuer's
 * tag, the Droplets tagged with it (`ownedNodes`).
 */
export function observedFirewall(fw: DOFirewall, membership?: TagMembership): ObservedFirewall {
  const merged = new Map<string, { protocol: 'tcp' | 'udp'; port: number; sources: Set<string> }>();
  for (const rule of fw.inbound_rules ?? []) {
    if ((rule.protocol !== 'tcp' && rule.protocol !== 'udp') || !SINGLE_PORT.test(rule.ports)) continue;
    const port = Number(rule.ports);
    if (port > 65535) continue;
    const key = `${rule.protocol}/${port}`;
    const entry = merged.get(key) ?? { protocol: rule.protocol, port, sources: new Set<string>() };
    for (const a of rule.sources.addresses ?? []) entry.sources.add(a);
    merged.set(key, entry);
  }
  const rules: FirewallRule[] = [...merged.values()]
    .sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port)
    .map((r) => ({ protocol: r.protocol, port: r.port, sources: [...r.sources].sort() }));
  const direct = (fw.droplet_ids ?? []).map(String);
  if (!membership) return { id: fw.id, name: fw.name, rules, nodes: [...new Set(direct)].sort(), owned: undefined };
  // Tag membership: the tagged Droplets are in the firewall once it carries the tag, and they
  // are ours by mark (the tag is the issuer's own).
  const viaTag = fw.tags?.includes(membership.tag) ? [...membership.tagged] : [];
  return { id: fw.id, name: fw.name, rules, nodes: [...new Set([...direct, ...viaTag])].sort(), owned: undefined, ownedNodes: [...viaTag].sort() };
}

/** The issuer's tag and the Droplets carrying it (ids as strings), for tag membership. */
export interface TagMembership {
  readonly tag: string;
  readonly tagged: ReadonlySet<string>;
}

/** Droplets (as id strings) the firewall is still being applied to. */
export function pendingDroplets(fw: DOFirewall): Set<string> {
  return new Set((fw.pending_changes ?? []).filter((c) => !c.removing).map((c) => String(c.droplet_id)));
}

/** A contract rule as the inbound rule DigitalOcean stores. */
export function inboundRule(rule: FirewallRule): DOInboundRule {
  return { protocol: rule.protocol, ports: String(rule.port), sources: { addresses: [...rule.sources] } };
}

/**
 * How to close exactly the (port, source) pairs of `drop` on a DigitalOcean firewall whose
 * stored inbound rules are `stored`: every stored single-port rule holding such a source is
 * removed as stored, and replaced (when anything else remains on it) by the same rule minus
 * those sources. Pure.
 */
export function splitRules(stored: readonly DOInboundRule[], drop: readonly FirewallRule[]): { replacements: DOInboundRule[]; removals: DOInboundRule[] } {
  const dropped = new Map(drop.map((r) => [`${r.protocol}/${r.port}`, new Set(r.sources)]));
  const replacements: DOInboundRule[] = [];
  const removals: DOInboundRule[] = [];
  for (const rule of stored) {
    if (!SINGLE_PORT.test(rule.ports)) continue;
    const gone = dropped.get(`${rule.protocol}/${Number(rule.ports)}`);
    const addresses = rule.sources.addresses ?? [];
    if (!gone || !addresses.some((a) => gone.has(a))) continue;
    removals.push(rule);
    const kept = addresses.filter((a) => !gone.has(a));
    const { addresses: _all, ...others } = rule.sources;
    const rest = { ...others, ...(kept.length > 0 ? { addresses: kept } : {}) };
    if (Object.values(rest).some((list) => Array.isArray(list) && list.length > 0)) replacements.push({ protocol: rule.protocol, ports: rule.ports, sources: rest });
  }
  return { replacements, removals };
}
