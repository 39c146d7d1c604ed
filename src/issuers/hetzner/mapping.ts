/**
 * Pure translations between Hetzner Cloud objects and the issuer contract's shapes, and the
 * marks the operator puts on what it creates.
 */
import { createHash } from 'node:crypto';
import type { FirewallPort } from '../../schemas/routed-ip.js';
import type { FirewallRule, ObservedFirewall, PendingAction, RoutedIPOwner } from '../issuer.js';
import { isOtherCluster, ownsMark } from '../marks.js';
import type { HAction, HFirewall, HRule } from './schemas.js';

const PROVIDER_PREFIX = 'hcloud://';
const ID = /^[1-9]\d{0,15}$/;

/**
 * The server id of a `spec.providerID` as the Hetzner cloud-controller-manager sets it
 * (`hcloud://123`), or `undefined` when it does not parse (other provider, Robot servers
 * `hrobot://…`, not a positive integer).
 */
export function serverIdFromProviderID(providerID: string | undefined): string | undefined {
  if (!providerID?.startsWith(PROVIDER_PREFIX)) return undefined;
  const id = providerID.slice(PROVIDER_PREFIX.length);
  return ID.test(id) && Number.isSafeInteger(Number(id)) ? id : undefined;
}

/** A server or Floating IP id string as the API's integer; undefined if invalid. */
export function idNumber(id: string): number | undefined {
  return ID.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : undefined;
}

/** Label on a Floating IP carrying its RoutedIP's UID: the only key `findRoutedIP` trusts. */
export const UID_LABEL = 'routedip.io/uid';
/** Label naming the cluster (`CLUSTER_NAME`) whose operator created the Floating IP: the orphan sweep's scope. */
export const CLUSTER_LABEL = 'routedip.io/cluster';
/** Label naming the namespace of the RoutedIP that created the Floating IP. */
export const NAMESPACE_LABEL = 'routedip.io/namespace';
/** Label on every Floating IP the operator creates. */
export const MANAGED_LABEL = 'routedip.io/managed-by';
export const MANAGED_VALUE = 'routedip-operator';

const LABEL_VALUE = /^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$/;

/** The owner's UID as a label value (a Kubernetes UID already is one; anything else is hashed). */
export function uidLabelValue(owner: RoutedIPOwner): string {
  return LABEL_VALUE.test(owner.uid) ? owner.uid : createHash('sha256').update(owner.uid).digest('hex').slice(0, 40);
}

/** The label selector that finds the owner's Floating IPs. */
export const ownerSelector = (owner: RoutedIPOwner): string => `${UID_LABEL}=${uidLabelValue(owner)}`;

/** The Floating IP name for `owner`: unique per project, so a repeated create is refused. */
export const floatingIPName = (owner: RoutedIPOwner): string => `routedip-${uidLabelValue(owner)}`;

/** Action command on the wire → the contract's verb. */
export function pendingActionOf(action: HAction): PendingAction {
  const type = action.command === 'assign_floating_ip' ? 'assign' : action.command === 'unassign_floating_ip' ? 'unassign' : action.command;
  return { id: String(action.id), type };
}

const SINGLE_PORT = /^[1-9]\d{0,4}$/;

/** The (protocol, port) of an inbound single-port TCP/UDP rule, or undefined for any other rule. */
export function portOf(rule: HRule): FirewallPort | undefined {
  if (rule.direction !== 'in' || (rule.protocol !== 'tcp' && rule.protocol !== 'udp')) return undefined;
  if (typeof rule.port !== 'string' || !SINGLE_PORT.test(rule.port) || Number(rule.port) > 65535) return undefined;
  return { protocol: rule.protocol, port: Number(rule.port) };
}

/** Servers the Firewall protects: applied directly or through a label selector. */
export function protectedServers(fw: HFirewall): string[] {
  const ids = new Set<number>();
  for (const r of fw.applied_to) {
    if (r.type === 'server' && r.server) ids.add(r.server.id);
    for (const m of r.applied_to_resources ?? []) if (m.type === 'server' && m.server) ids.add(m.server.id);
  }
  return [...ids].sort((a, b) => a - b).map(String);
}

/**
 * The Firewall as the contract sees it: inbound single-port TCP/UDP rules merged per (protocol,
 * port) with their sources; port ranges, ICMP/ESP/GRE and outbound rules are someone else's and
 * invisible here (and kept byte for byte by every write). `owned` are the rules
 * carrying `owner`'s mark (either form, `../marks.ts`) in their description, with their sources;
 * `foreignMarked` the pairs only rules of another cluster hold.
 */
export function observedFirewall(fw: HFirewall, owner: RoutedIPOwner, cluster?: string): ObservedFirewall {
  const merged = new Map<string, { port: FirewallPort; sources: Set<string> }>();
  const owned = new Map<string, { port: FirewallPort; sources: Set<string> }>();
  const theirs = new Map<string, { port: FirewallPort; sources: Set<string> }>();
  const others = new Set<string>();
  for (const rule of fw.rules) {
    const port = portOf(rule);
    if (!port) continue;
    const key = `${port.protocol}/${port.port}`;
    const entry = merged.get(key) ?? { port, sources: new Set<string>() };
    for (const s of rule.source_ips ?? []) entry.sources.add(s);
    merged.set(key, entry);
    const into = ownsMark(rule.description, owner, cluster) ? owned : isOtherCluster(rule.description, cluster) ? theirs : undefined;
    if (into) {
      const mine = into.get(key) ?? { port, sources: new Set<string>() };
      for (const s of rule.source_ips ?? []) mine.sources.add(s);
      into.set(key, mine);
    }
    if (into !== theirs) for (const s of rule.source_ips ?? []) others.add(`${key} ${s}`);
  }
  // A pair another rule holds too can still be removed from that rule: only the rest is theirs alone.
  for (const [key, e] of theirs) for (const s of [...e.sources]) if (others.has(`${key} ${s}`)) e.sources.delete(s);
  for (const [key, e] of theirs) if (e.sources.size === 0) theirs.delete(key);
  const byPort = (a: FirewallPort, b: FirewallPort) => a.protocol.localeCompare(b.protocol) || a.port - b.port;
  const flatten = (m: typeof merged): FirewallRule[] => [...m.values()].map((e) => ({ ...e.port, sources: [...e.sources].sort() })).sort(byPort);
  return { id: String(fw.id), name: fw.name, rules: flatten(merged), nodes: protectedServers(fw), owned: flatten(owned), foreignMarked: flatten(theirs) };
}
