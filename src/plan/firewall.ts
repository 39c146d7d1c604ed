/**
 * The firewall difference (external-dns `Difference` restricted by ownership): what to add so the
 * elected node accepts every required port, and what this RoutedIP may remove afterwards.
 * Ownership is kept per (port, source) pair, so narrowing `firewallSourceRanges` removes the
 * sources this RoutedIP opened and no longer wants.
 *
 *   (port, source) in the cloud        wanted?  owned?  a sibling wants it?  →  action
 *   absent                             yes      -       -                       add (becomes owned)
 *   present                            yes      any     -                       keep
 *   present                            no       yes     no                      delete
 *   present                            no       yes     yes                     keep (sibling still needs it)
 *   present                            no       no      -                       keep (foreign)
 *
 * "Wanted" is a desired port with one of the issuer's sources. "Owned" is evidence that we made
 * it: this RoutedIP's record (`status.firewall.addedPorts`), its marks in the cloud (AWS rule
 * descriptions), or a sibling's record for a pair this RoutedIP wants too — taken over, so that
 * whichever RoutedIP needs a shared entry last removes it, whoever added it.
 *
 * Nodes: the elected node is added when missing; a node is removed only when this RoutedIP
 * added it (its record, or its mark where the cloud marks memberships: `ObservedFirewall.ownedNodes`;
 * or it took it over from a sibling while holding it), it is not the elected node
 * (deletes run after the IP moved there), and no sibling needs it.
 */
import type { FirewallRule, NodeTarget, ObservedFirewall } from '../issuers/issuer.js';
import type { AddedPort, FirewallPort, FirewallStatus } from '../schemas/routed-ip.js';
import { portKey, sortPorts } from './ports.js';

/** Key of a sibling's need for one source on a port, e.g. `tcp/443 0.0.0.0/0`. */
export const sourceKey = (p: FirewallPort, source: string): string => `${portKey(p)} ${source}`;

/** What the firewall steps start from. */
export interface FirewallInput {
  readonly firewall: ObservedFirewall;
  readonly desiredPorts: readonly FirewallPort[];
  /** Sources for our rules, sorted. */
  readonly sources: readonly string[];
  /** `status.firewall` of the last sync (used only when it names this firewall). */
  readonly previous?: FirewallStatus;
  /**
   * What RoutedIPs sharing this firewall need: `sourceKey`s, or a bare `portKey` for a sibling
   * whose record predates source tracking (it then needs every source of that port).
   */
  readonly siblingPorts: ReadonlySet<string>;
  readonly siblingNodes: ReadonlySet<string>;
  /** What siblings sharing this firewall recorded as added (taken over when wanted here too). */
  readonly siblingAdded?: readonly FirewallRule[];
  readonly siblingAddedNodes?: ReadonlySet<string>;
  /** The elected node; deletes run only once the IP has moved there, so it is the one node kept. */
  readonly elected?: NodeTarget;
}

/** The firewall part of the plan. */
export interface FirewallPlan {
  readonly addRules: FirewallRule[];
  /** The pairs `addRules` opens: owned once added (a lost answer is settled by the next observation). */
  readonly claims: FirewallRule[];
  readonly addNode?: NodeTarget;
  readonly deleteRules: FirewallRule[];
  readonly deleteNodes: string[];
  /** Owned (port, source) pairs still present in the cloud before this sync's writes. */
  readonly owned: FirewallRule[];
  readonly ownedNodes: string[];
}

const sameFirewall = (previous: FirewallStatus | undefined, fw: ObservedFirewall): previous is FirewallStatus =>
  previous !== undefined && previous.id === fw.id;

/** A set of (port, source) pairs, kept per port. */
export class PortSources {
  private readonly byKey = new Map<string, { port: FirewallPort; sources: Set<string> }>();

  /** Adds `sources` on `port`. */
  add(port: FirewallPort, sources: Iterable<string>): void {
    const key = portKey(port);
    const entry = this.byKey.get(key) ?? { port: { protocol: port.protocol, port: port.port }, sources: new Set<string>() };
    for (const s of sources) entry.sources.add(s);
    if (entry.sources.size > 0) this.byKey.set(key, entry);
  }

  /** Removes `sources` from `port`; a port left with none is dropped. */
  remove(port: FirewallPort, sources: Iterable<string>): void {
    const entry = this.byKey.get(portKey(port));
    if (!entry) return;
    for (const s of sources) entry.sources.delete(s);
    if (entry.sources.size === 0) this.byKey.delete(portKey(port));
  }

  /** Sorted rules, sources sorted. */
  rules(): FirewallRule[] {
    return sortPorts([...this.byKey.values()].map((e) => ({ ...e.port, sources: [...e.sources].sort() })));
  }
}

/** The (port, source) pairs an ownership record names; a legacy record (no sources) owns `fallback`. */
export const recordedPairs = (added: readonly AddedPort[], fallback: readonly string[]): FirewallRule[] =>
  added.map((a) => ({ protocol: a.protocol, port: a.port, sources: a.sources ?? fallback }));

/** Computes the firewall difference. Pure. */
export function planFirewall(input: FirewallInput): FirewallPlan {
  const { firewall, sources } = input;
  const observed = new Map(firewall.rules.map((r) => [portKey(r), new Set(r.sources)]));
  const previous = sameFirewall(input.previous, firewall) ? input.previous : undefined;
  const desiredKeys = new Set(input.desiredPorts.map(portKey));
  const wanted = new Set(sources);

  const owned = new PortSources();
  const own = (r: FirewallRule, accept: (s: string) => boolean = () => true) => {
    const here = observed.get(portKey(r));
    if (here) owned.add(r, r.sources.filter((s) => here.has(s) && accept(s)));
  };
  for (const r of recordedPairs(previous?.addedPorts ?? [], sources)) own(r);
  for (const r of firewall.owned ?? []) own(r);
  for (const r of input.siblingAdded ?? []) if (desiredKeys.has(portKey(r))) own(r, (s) => wanted.has(s));
  const ownedRules = owned.rules();

  const addRules: FirewallRule[] = [];
  for (const port of input.desiredPorts) {
    const here = observed.get(portKey(port));
    const missing = sources.filter((s) => !here?.has(s));
    if (missing.length > 0) addRules.push({ protocol: port.protocol, port: port.port, sources: missing });
  }

  const siblingNeeds = (port: FirewallPort, s: string) => input.siblingPorts.has(portKey(port)) || input.siblingPorts.has(sourceKey(port, s));
  const deleteRules: FirewallRule[] = [];
  for (const rule of ownedRules) {
    const keep = (s: string) => (desiredKeys.has(portKey(rule)) && wanted.has(s)) || siblingNeeds(rule, s);
    const drop = rule.sources.filter((s) => !keep(s));
    if (drop.length > 0) deleteRules.push({ protocol: rule.protocol, port: rule.port, sources: drop });
  }

  const inFirewall = new Set(firewall.nodes);
  const electedId = input.elected?.id;
  const takenOver = electedId !== undefined && input.siblingAddedNodes?.has(electedId) ? [electedId] : [];
  const ownedNodes = [...new Set([...(previous?.addedNodes ?? []), ...(firewall.ownedNodes ?? []), ...takenOver])].filter((id) => inFirewall.has(id)).sort();
  const deleteNodes = ownedNodes.filter((id) => id !== electedId && !input.siblingNodes.has(id));
  const addNode = input.elected && !inFirewall.has(input.elected.id) ? input.elected : undefined;

  return { addRules, claims: addRules, ...(addNode ? { addNode } : {}), deleteRules, deleteNodes, owned: ownedRules, ownedNodes };
}
