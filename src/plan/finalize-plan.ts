/**
 * The finalize plan for reclaim policy `Delete` (PRODUCT.md "Finalize"). `Retain` needs no plan:
 * every cloud resource is left as it is.
 *
 *   observation                          →  DeleteRoutedIP                 firewall steps
 *   created IP on a node                 →  unassign, then release         delete owned ports/nodes
 *   adopted IP (spec.address) on a node  →  unassign only (never release)  delete owned ports/nodes
 *   action in progress on the IP         →  pending (poll again)           wait
 *   no IP, a create intent still open    →  pending (a create may land)    wait
 *   nothing owned left                   →  skipped                        skipped  ⇒ finalized
 *
 * Entries another RoutedIP sharing the firewall still needs are left to it.
 */
import type { ObservedFirewall, ObservedRoutedIP } from '../issuers/issuer.js';
import type { FirewallStatus } from '../schemas/routed-ip.js';
import type { FirewallRule } from '../issuers/issuer.js';
import { planFirewall, sourceKey, type FirewallPlan } from './firewall.js';
import { intentExpiry, intentState, type IntentObservation } from './intent.js';
import { act, decided, describeRules, type PlannedStep } from './steps.js';
import { haltAfterBlocked } from './sync-plan.js';

/** What the finalize plan is computed from. */
export interface FinalizeObservation {
  readonly ip?: ObservedRoutedIP;
  /** `spec.address` is set: the address is adopted and never released. */
  readonly adopted: boolean;
  readonly firewallName?: string;
  readonly firewall?: ObservedFirewall;
  readonly sources: readonly string[];
  readonly previousFirewall?: FirewallStatus;
  readonly siblingPorts: ReadonlySet<string>;
  readonly siblingNodes: ReadonlySet<string>;
  /**
   * What siblings sharing the firewall recorded as added. An owned entry left for a sibling is
   * handed over: this RoutedIP goes only once a sibling's record names it (see `handover`).
   */
  readonly siblingAdded?: readonly FirewallRule[];
  readonly siblingAddedNodes?: ReadonlySet<string>;
  /** The recorded create intent (unmarked clouds): a create sent for it may still land. */
  readonly createIntent?: IntentObservation;
}

/** Steps of a Delete finalize; `clean` when none acts or waits (the cloud holds nothing of ours). */
export interface FinalizePlan {
  readonly steps: readonly PlannedStep[];
  readonly clean: boolean;
  /** Entries a sibling still needs but has not taken over into its record yet: wait for it. */
  readonly handover: { readonly rules: readonly FirewallRule[]; readonly nodes: readonly string[] };
}

/**
 * Owned entries this finalize leaves because a sibling needs them, and that no sibling records as
 * added yet. Leaving them unrecorded would make them nobody's: open to the world after every
 * RoutedIP that needed them is gone (issue 12 item 6c). The sibling takes them over on its next
 * sync (it sees this RoutedIP's record, kept while finalizing), which this status change triggers.
 */
function handover(fw: FirewallPlan, siblingAdded: readonly FirewallRule[], siblingAddedNodes: ReadonlySet<string>, obs: FinalizeObservation) {
  const recorded = new Set(siblingAdded.flatMap((r) => r.sources.map((s) => sourceKey(r, s))));
  const deleting = new Set(fw.deleteRules.flatMap((r) => r.sources.map((s) => sourceKey(r, s))));
  const rules = fw.owned
    .map((r) => ({ ...r, sources: r.sources.filter((s) => !deleting.has(sourceKey(r, s)) && !recorded.has(sourceKey(r, s))) }))
    .filter((r) => r.sources.length > 0);
  const nodes = fw.ownedNodes.filter((id) => obs.siblingNodes.has(id) && !siblingAddedNodes.has(id));
  return { rules, nodes };
}

/** Computes the finalize plan. Pure. */
export function planFinalize(obs: FinalizeObservation): FinalizePlan {
  const steps: PlannedStep[] = [];
  const ip = obs.ip;
  steps.push(decided('FindRoutedIP', 'done', ip ? `found ${ip.address}` : 'no address'));
  if (obs.firewallName === undefined) steps.push(decided('FindRoutedIPFirewall', 'skipped', 'no routedIPFirewallName: firewall not managed'));
  else if (!obs.firewall) steps.push(decided('FindRoutedIPFirewall', 'skipped', `no firewall named ${obs.firewallName}: nothing to remove`));
  else steps.push(decided('FindRoutedIPFirewall', 'done', `${obs.firewall.name} (${obs.firewall.id})`));

  const intent = obs.createIntent;
  const inFlight = !ip && intent?.recorded !== undefined && ['open', 'settling'].includes(intentState(intent));
  if (inFlight && intent?.recorded) {
    steps.push(decided('DeleteRoutedIP', 'pending', `no address yet, but a create on ${intent.recorded.node} may still land until ${intentExpiry(intent.recorded)}`));
  } else if (!ip) steps.push(decided('DeleteRoutedIP', 'skipped', 'no address'));
  else if (ip.pendingAction) steps.push(decided('DeleteRoutedIP', 'pending', `action ${ip.pendingAction.id} (${ip.pendingAction.type}) in progress`));
  else if (ip.holder !== undefined) {
    const release = !obs.adopted;
    steps.push(act('DeleteRoutedIP', { kind: 'delete', unassign: true, release }, release ? `unassign and release ${ip.address}` : `unassign adopted ${ip.address}`));
  } else if (obs.adopted) steps.push(decided('DeleteRoutedIP', 'skipped', `adopted ${ip.address} is unassigned and kept`));
  else steps.push(act('DeleteRoutedIP', { kind: 'delete', unassign: false, release: true }, `release ${ip.address}`));

  let waitFor: FinalizePlan['handover'] = { rules: [], nodes: [] };
  if (!obs.firewall) {
    steps.push(decided('DeleteRoutedIPFirewallPort', 'skipped', 'no firewall'), decided('DeleteRoutedIPFirewallNode', 'skipped', 'no firewall'));
  } else {
    const fw = planFirewall({
      firewall: obs.firewall,
      desiredPorts: [],
      sources: obs.sources,
      ...(obs.previousFirewall ? { previous: obs.previousFirewall } : {}),
      siblingPorts: obs.siblingPorts,
      siblingNodes: obs.siblingNodes,
    });
    waitFor = handover(fw, obs.siblingAdded ?? [], obs.siblingAddedNodes ?? new Set(), obs);
    const handing = (name: 'DeleteRoutedIPFirewallPort' | 'DeleteRoutedIPFirewallNode', what: string) =>
      decided(name, 'pending', `left for a sibling that needs it; waiting until its record takes over ${what}`);
    steps.push(
      fw.deleteRules.length > 0
        ? act('DeleteRoutedIPFirewallPort', { kind: 'deletePorts', rules: fw.deleteRules }, describeRules(fw.deleteRules))
        : waitFor.rules.length > 0
          ? handing('DeleteRoutedIPFirewallPort', describeRules(waitFor.rules))
          : decided('DeleteRoutedIPFirewallPort', 'skipped', 'nothing owned left'),
      fw.deleteNodes.length > 0
        ? act('DeleteRoutedIPFirewallNode', { kind: 'deleteNodes', ids: fw.deleteNodes }, fw.deleteNodes.join(','))
        : waitFor.nodes.length > 0
          ? handing('DeleteRoutedIPFirewallNode', waitFor.nodes.join(','))
          : decided('DeleteRoutedIPFirewallNode', 'skipped', 'nothing owned left'),
    );
  }
  const planned = haltAfterBlocked(steps);
  const clean = planned.every((s) => s.action === undefined && s.outcome !== 'pending') && waitFor.rules.length === 0 && waitFor.nodes.length === 0;
  return { steps: planned, clean, handover: waitFor };
}
