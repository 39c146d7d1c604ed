/**
 * The firewall difference (external-dns `Difference` restricted by ownership): what to add so the
 * elected node accepts every required port, and what this RoutedIP may remove afterwards.
 * Ownership is kept per (port, source) pair, so narrowing `firewallSourceRanges` removes the
 * sources this RoutedIP opened and no longer wants.
 *
 * Recorded before acted. `status.firewall.addedPorts` / `addedNodes` are claims: an entry is
 * recorded there BEFORE it is added, and an add the cloud cannot mark is sent only by a sync whose
 * `parent.status` already records it. Metacontroller serializes syncs of one parent, its informer
 * cache never goes backwards, and no write starts after our hook deadline; so every later sync
 * sees a parent at least as new as the one the adding sync saw, and the record survives a stale
 * `parent.status` (metacontroller#1072) written over a newer one. A claim is kept while the entry
 * is present in the cloud or still wanted; an absent claim nobody wants any more is dropped.
 *
 *   (port, source) in the cloud  wanted?  claimed/marked?     a sibling needs it?  →  action
 *   absent                       yes      claimed (previous)  -                       add; claim kept
 *   absent                       yes      cloud marks rules   -                       add (the mark is written with it); claim
 *   absent                       yes      no                  -                       claim only: pending, the next sync adds
 *   absent                       no       claimed             -                       claim dropped
 *   present                      yes      yes                 -                       keep (owned; a lost answer settles here)
 *   present                      yes      no                  -                       keep (foreign, never claimed)
 *   present                      no       yes                 no                      delete
 *   present                      no       yes                 yes                     keep (sibling still needs it)
 *   present                      no       no                  -                       keep (foreign)
 *
 * "Wanted" is a desired port with one of the issuer's sources. "Claimed/marked" is evidence that
 * we made it: this RoutedIP's record (`status.firewall.addedPorts`), its marks in the cloud (AWS
 * and Hetzner rule descriptions), or a sibling's record for a present pair this RoutedIP wants
 * too — taken over, so that whichever RoutedIP needs a shared entry last removes it, whoever added it.
 *
 *   node                                   in the cloud  claimed/marked?  →  action
 *   elected                                absent        claimed or marks    add (AddRoutedIPFirewallNode)
 *   elected                                absent        no                  claim only: pending, the next sync adds
 *   standby (unmarked clouds)              absent        -                   claim (never added while standby)
 *   elected                                present       claimed/marked      owned, kept
 *   any other                              present       claimed/marked      delete unless a sibling needs it
 *                                                                           (deletes run after the IP moved)
 *   any other                              absent        claimed             claim dropped
 *   any                                    present       no                  foreign: never removed
 *
 * The standby is the node the election would pick if the elected node became ineligible. Its
 * claim, recorded while all is well, lets the failover sync add it and move the IP at once (one
 * sync); only a standby that changed since the parent the failover sync sees costs one more sync.
 * Where the cloud marks memberships (`ObservedFirewall.ownedNodes`) no claim is needed. A marked
 * or claimed node is owned; a node taken over from a sibling while holding it is owned too. Under
 * a mark every RoutedIP of the firewall shares (a DigitalOcean tag), the record names only the
 * elected node and this RoutedIP's own leftovers (`recordedNodes`): one RoutedIP moving leaves
 * its siblings' statuses, and so their cached reads, as they were.
 *
 * A pair the cloud shows only under ANOTHER cluster's mark (`ObservedFirewall.foreignMarked`) is
 * never owned — not by a claim, a mark or a takeover — so it is never deleted nor awaited: a
 * shared security group or Firewall may hold rules of several clusters.
 *
 * Edge: someone who adds exactly a claimed, absent entry between our claim and our add (for the
 * standby: while it is the standby) makes it ours, as a lost answer would have.
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
  /** The node the election would pick if `elected` became ineligible (claimed in advance). */
  readonly standby?: NodeTarget;
}

/** The firewall part of the plan. */
export interface FirewallPlan {
  /** Rules this sync adds: wanted, absent, and claimed by the previous status (or marked by the add). */
  readonly addRules: FirewallRule[];
  /** Every wanted pair absent from the cloud: recorded as claims by this sync's status. */
  readonly claims: FirewallRule[];
  /** Claims recorded now without adding (not in the previous status): the next sync adds them. */
  readonly claimRules: FirewallRule[];
  readonly addNode?: NodeTarget;
  /** The elected node, absent and not claimed yet: recorded now, added by the next sync. */
  readonly claimNode?: NodeTarget;
  /** Node claims this sync records: the elected node when absent, the standby (unmarked clouds). */
  readonly nodeClaims: string[];
  readonly deleteRules: FirewallRule[];
  readonly deleteNodes: string[];
  /** Owned (port, source) pairs still present in the cloud before this sync's writes. */
  readonly owned: FirewallRule[];
  readonly ownedNodes: string[];
  /**
   * The owned nodes this RoutedIP records in `status.firewall.addedNodes`. Unmarked clouds: all of
   * `ownedNodes` (the record is the only evidence). Where a mark shared by every RoutedIP of the
   * firewall carries ownership (a DigitalOcean tag), only the elected node and this RoutedIP's own
   * claims that no sibling needs: the mark already proves the rest ours, and a record listing every
   * tagged Droplet would change every sibling's status whenever one RoutedIP moves.
   */
  readonly recordedNodes: string[];
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

  /** True when `source` on `port` is in the set. */
  has(port: FirewallPort, source: string): boolean {
    return this.byKey.get(portKey(port))?.sources.has(source) ?? false;
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
  const rulesMarked = firewall.owned !== undefined;

  const claimed = new PortSources();
  for (const r of recordedPairs(previous?.addedPorts ?? [], sources)) claimed.add(r, r.sources);
  // Pairs only another cluster's marked rules hold are never ours, whatever a record claims:
  // no write of ours may remove them, so owning them would wait forever on a delete.
  const theirs = new PortSources();
  for (const r of firewall.foreignMarked ?? []) theirs.add(r, r.sources);
  const owned = new PortSources();
  const own = (r: FirewallRule, accept: (s: string) => boolean = () => true) => {
    const here = observed.get(portKey(r));
    if (here) owned.add(r, r.sources.filter((s) => here.has(s) && !theirs.has(r, s) && accept(s)));
  };
  for (const r of claimed.rules()) own(r);
  for (const r of firewall.owned ?? []) own(r);
  for (const r of input.siblingAdded ?? []) if (desiredKeys.has(portKey(r))) own(r, (s) => wanted.has(s));
  const ownedRules = owned.rules();

  const claims: FirewallRule[] = [];
  const ready: FirewallRule[] = [];
  const claimRules: FirewallRule[] = [];
  const push = (to: FirewallRule[], port: FirewallPort, list: string[]) => {
    if (list.length > 0) to.push({ protocol: port.protocol, port: port.port, sources: list });
  };
  for (const port of input.desiredPorts) {
    const here = observed.get(portKey(port));
    const missing = sources.filter((s) => !here?.has(s));
    const mayAdd = (s: string) => rulesMarked || claimed.has(port, s);
    push(claims, port, missing);
    push(ready, port, missing.filter(mayAdd));
    push(claimRules, port, missing.filter((s) => !mayAdd(s)));
  }
  // One step, one outcome: while a new claim waits for its status write, the claimed ones wait with it.
  const addRules = claimRules.length > 0 ? [] : ready;

  const siblingNeeds = (port: FirewallPort, s: string) => input.siblingPorts.has(portKey(port)) || input.siblingPorts.has(sourceKey(port, s));
  const deleteRules: FirewallRule[] = [];
  for (const rule of ownedRules) {
    const keep = (s: string) => (desiredKeys.has(portKey(rule)) && wanted.has(s)) || siblingNeeds(rule, s);
    const drop = rule.sources.filter((s) => !keep(s));
    if (drop.length > 0) deleteRules.push({ protocol: rule.protocol, port: rule.port, sources: drop });
  }

  const inFirewall = new Set(firewall.nodes);
  const nodesMarked = firewall.ownedNodes !== undefined;
  const claimedNodes = new Set(previous?.addedNodes ?? []);
  const electedId = input.elected?.id;
  const takenOver = electedId !== undefined && input.siblingAddedNodes?.has(electedId) ? [electedId] : [];
  const ownedNodes = [...new Set([...claimedNodes, ...(firewall.ownedNodes ?? []), ...takenOver])].filter((id) => inFirewall.has(id)).sort();
  const deleteNodes = ownedNodes.filter((id) => id !== electedId && !input.siblingNodes.has(id));
  const missing = input.elected && !inFirewall.has(input.elected.id) ? input.elected : undefined;
  const addNode = missing && (nodesMarked || claimedNodes.has(missing.id)) ? missing : undefined;
  const claimNode = missing && !addNode ? missing : undefined;
  const standby = input.standby;
  const standbyClaim =
    !nodesMarked && standby && standby.id !== electedId && (!inFirewall.has(standby.id) || ownedNodes.includes(standby.id)) ? [standby.id] : [];
  const nodeClaims = [...new Set([...(missing ? [missing.id] : []), ...standbyClaim])].sort();
  const recordedNodes = nodesMarked ? ownedNodes.filter((id) => id === electedId || (claimedNodes.has(id) && !input.siblingNodes.has(id))) : ownedNodes;

  return {
    addRules,
    claims: sortPorts(claims),
    claimRules: sortPorts(claimRules),
    ...(addNode ? { addNode } : {}),
    ...(claimNode ? { claimNode } : {}),
    nodeClaims,
    deleteRules,
    deleteNodes,
    owned: ownedRules,
    ownedNodes,
    recordedNodes,
  };
}
