/**
 * The firewall difference (external-dns `Difference` restricted by ownership): what to add so the
 * elected node accepts every required port, and what this RoutedIP may remove afterwards.
 *
 *   observed rule for the port     desired?  owned?  sibling needs?  →  action
 *   none                           yes       -       -                  add (becomes owned)
 *   covers our sources             yes       any     -                  keep
 *   lacks some of our sources      yes       no      -                  add missing sources (not owned)
 *   present                        no        yes     no                 delete our sources
 *   present                        no        yes     yes                keep (sibling still needs it)
 *   present                        no        no      -                  keep (foreign)
 *
 * Nodes: the elected node is added when missing; a node is removed only when this RoutedIP
 * added it, it is not the elected node (deletes run after the IP moved there), and no sibling needs it.
 */
import type { FirewallRule, NodeTarget, ObservedFirewall } from '../issuers/issuer.js';
import type { FirewallPort, FirewallStatus } from '../schemas/routed-ip.js';
import { portKey, sortPorts } from './ports.js';

/** What the firewall steps start from. */
export interface FirewallInput {
  readonly firewall: ObservedFirewall;
  readonly desiredPorts: readonly FirewallPort[];
  /** Sources for our rules, sorted. */
  readonly sources: readonly string[];
  /** `status.firewall` of the last sync (used only when it names this firewall). */
  readonly previous?: FirewallStatus;
  /** Ports and node ids that other RoutedIPs sharing this firewall need. */
  readonly siblingPorts: ReadonlySet<string>;
  readonly siblingNodes: ReadonlySet<string>;
  /** The elected node; deletes run only once the IP has moved there, so it is the one node kept. */
  readonly elected?: NodeTarget;
}

/** The firewall part of the plan. */
export interface FirewallPlan {
  readonly addRules: FirewallRule[];
  /** Keys of `addRules` that create a whole new rule, and so become owned once added. */
  readonly claimPorts: FirewallPort[];
  readonly addNode?: NodeTarget;
  readonly deleteRules: FirewallRule[];
  readonly deleteNodes: string[];
  /** Owned entries still present in the cloud before this sync's writes. */
  readonly ownedPorts: FirewallPort[];
  readonly ownedNodes: string[];
}

const sameFirewall = (previous: FirewallStatus | undefined, fw: ObservedFirewall): previous is FirewallStatus =>
  previous !== undefined && previous.id === fw.id;

/** Computes the firewall difference. Pure. */
export function planFirewall(input: FirewallInput): FirewallPlan {
  const { firewall, sources } = input;
  const observed = new Map(firewall.rules.map((r) => [portKey(r), r]));
  const previous = sameFirewall(input.previous, firewall) ? input.previous : undefined;
  const ownedKeys = new Set([...(previous?.addedPorts ?? []), ...(firewall.ownedPorts ?? [])].map(portKey));

  const addRules: FirewallRule[] = [];
  const claimPorts: FirewallPort[] = [];
  for (const port of input.desiredPorts) {
    const rule = observed.get(portKey(port));
    const missing = sources.filter((s) => !rule?.sources.includes(s));
    if (missing.length === 0) continue;
    addRules.push({ protocol: port.protocol, port: port.port, sources: missing });
    if (!rule) claimPorts.push(port);
  }

  const ownedPorts = sortPorts([...observed.values()].filter((r) => ownedKeys.has(portKey(r))).map(({ protocol, port }) => ({ protocol, port })));
  const desiredKeys = new Set(input.desiredPorts.map(portKey));
  const deleteRules: FirewallRule[] = [];
  for (const port of ownedPorts) {
    const key = portKey(port);
    if (desiredKeys.has(key) || input.siblingPorts.has(key)) continue;
    const ours = sources.filter((s) => observed.get(key)?.sources.includes(s));
    if (ours.length > 0) deleteRules.push({ ...port, sources: ours });
  }

  const inFirewall = new Set(firewall.nodes);
  const ownedNodes = [...new Set(previous?.addedNodes ?? [])].filter((id) => inFirewall.has(id)).sort();
  const deleteNodes = ownedNodes.filter((id) => id !== input.elected?.id && !input.siblingNodes.has(id));
  const addNode = input.elected && !inFirewall.has(input.elected.id) ? input.elected : undefined;

  return { addRules, claimPorts, ...(addNode ? { addNode } : {}), deleteRules, deleteNodes, ownedPorts, ownedNodes };
}
