/**
 * The sync plan: from one observation, the ordered steps that keep traffic flowing while the IP
 * moves (PRODUCT.md "The steps, in order"). Pure: no I/O, no clock, no randomness.
 *
 *   observation                                   →  steps that act
 *   no IP, node n1 eligible, firewall fw          →  AddPort, AddNode(n1), Create(n1), Assign(n1)*
 *   IP on n1, n1 eligible, all in place           →  none (every step done/skipped)
 *   IP on n1, n1 NotReady, n2 eligible            →  AddNode(n2), Assign(n2), DeleteNode(n1 if added)
 *   IP moving to n2 (action pending)              →  Assign pending; deletes wait
 *   a port no longer served                       →  DeletePort (only if this RoutedIP added it)
 *   firewall named but absent                     →  FindRoutedIPFirewall failed; nothing assigned
 *   no eligible node                              →  ElectRoutedIPNode failed; the IP stays put
 *   no IP, unmarked cloud, no open intent         →  Create pending: the intent is recorded first
 *   a port or the elected node absent, unclaimed  →  AddPort/AddNode pending: the claim is recorded
 *     (unmarked firewall, see firewall.ts)            first (same status as a create intent), the
 *                                                     next sync adds; later actions wait
 *   IP on n1, n1 NotReady, n2 = claimed standby   →  AddNode(n2), Assign(n2), DeleteNode(n1): one sync
 *   (* Assign is skipped when the create already aimed the IP at n1)
 *
 * CreateRoutedIP runs right before AssignRoutedIP rather than first: some clouds create the IP
 * directly on a machine (DigitalOcean's leak guard), which must not happen before that machine
 * is in the firewall with every port.
 */
import type { FirewallRule, NodeTarget, ObservedFirewall, ObservedRoutedIP } from '../issuers/issuer.js';
import type { FirewallPort, FirewallStatus } from '../schemas/routed-ip.js';
import type { JudgedNode } from './eligibility.js';
import { electNode, type Election } from './elect.js';
import { planFirewall, type FirewallPlan } from './firewall.js';
import { blockedBySiblings, intentExpiry, intentState, type IntentObservation, type SiblingIntent } from './intent.js';
import { act, decided, describeRules, type PlannedStep } from './steps.js';
import { decideGrace, type GraceDecision, type IneligibleRecord } from './failover.js';

/** Everything the sync plan is computed from. */
export interface SyncObservation {
  readonly ownerUid: string;
  readonly nodes: readonly JudgedNode[];
  /** The IP found by FindRoutedIP; undefined when none exists yet. */
  readonly ip?: ObservedRoutedIP;
  /** `status.electedNode` and `status.firewall` of the last sync (hints). */
  readonly previousElected?: string;
  readonly previousFirewall?: FirewallStatus;
  /** Nodes other RoutedIPs hold or were elected to. */
  readonly taken: ReadonlySet<string>;
  /** `routedIPFirewallName`; undefined = no firewall management. */
  readonly firewallName?: string;
  /** The firewall found; undefined with a name = not found. */
  readonly firewall?: ObservedFirewall;
  readonly ports: readonly FirewallPort[];
  /** Where `ports` came from (`ResolvedPorts.from`), for the step detail. */
  readonly portsFrom?: string;
  readonly sources: readonly string[];
  /** What siblings sharing the firewall need and added (see `FirewallInput`). */
  readonly siblingPorts: ReadonlySet<string>;
  readonly siblingNodes: ReadonlySet<string>;
  readonly siblingAdded?: readonly FirewallRule[];
  readonly siblingAddedNodes?: ReadonlySet<string>;
  /** Nodes whose machine holds another address, where the cloud allows one (see `electNode`). */
  readonly occupied?: ReadonlySet<string>;
  /** Set when the cloud cannot mark addresses: creates go through a recorded intent. */
  readonly createIntent?: IntentObservation;
  /** Siblings' recorded create intents (see `blockedBySiblings`). */
  readonly siblingIntents?: readonly SiblingIntent[];
  /** `spec.nodePreference` scores by node name (fresh elections only). */
  readonly preference?: ReadonlyMap<string, number>;
  /** `spec.failover.graceSeconds` and the clock it runs on (see `failover.ts`); absent = no grace. */
  readonly failover?: { readonly graceSeconds: number; readonly recorded?: IneligibleRecord; readonly now: number };
}

/**
 * What the status must say about the create intent: `record` a new one aimed at `node`, `keep`
 * the recorded one, or nothing (no intent: an address was found, or none is needed).
 */
export type IntentDecision = { readonly kind: 'record'; readonly node: NodeTarget } | { readonly kind: 'keep' };

/** The sync plan. */
export interface SyncPlan {
  readonly election: Election;
  /** Node name holding the IP now (from the IP's cloud holder), if known. */
  readonly holder?: string;
  readonly firewall?: FirewallPlan;
  readonly steps: readonly PlannedStep[];
  readonly createIntent?: IntentDecision;
  /** `status.holderIneligible` after this sync, and the grace left while the holder keeps the IP. */
  readonly grace?: GraceDecision;
}

const portsText = (ports: readonly FirewallPort[], from: string | undefined): string =>
  (ports.length === 0 ? 'no ready endpoint ports' : ports.map((p) => `${p.protocol}/${p.port}`).join(',')) + (from !== undefined && from !== 'endpoints' ? ` (from ${from})` : '');

/** Computes the sync plan. */
export function planSync(obs: SyncObservation): SyncPlan {
  const nameOf = (id: string | undefined) => (id === undefined ? undefined : obs.nodes.find((n) => n.target?.id === id)?.name);
  const holder = nameOf(obs.ip?.holder);
  // Without an address yet, a node an older sibling intent aims at cannot take ours either.
  const blocked = !obs.ip && obs.createIntent ? blockedBySiblings(obs.createIntent.recorded, obs.ownerUid, obs.siblingIntents ?? []) : new Set<string>();
  const occupied = new Set([...(obs.occupied ?? []), ...blocked]);
  const holderNode = holder === undefined ? undefined : obs.nodes.find((n) => n.name === holder);
  const grace = obs.failover
    ? decideGrace({
        ...(holderNode ? { holder: holderNode } : {}),
        graceSeconds: obs.failover.graceSeconds,
        ...(obs.failover.recorded ? { recorded: obs.failover.recorded } : {}),
        now: obs.failover.now,
      })
    : undefined;
  const electionInput = {
    ownerUid: obs.ownerUid,
    nodes: obs.nodes,
    ...(holder !== undefined ? { holder } : {}),
    ...(obs.previousElected !== undefined ? { previous: obs.previousElected } : {}),
    taken: obs.taken,
    occupied,
    ...(obs.preference ? { preference: obs.preference } : {}),
  };
  const election = electNode({ ...electionInput, ...(grace?.keep ? { keepHolder: true } : {}) });
  const elected = obs.nodes.find((n) => n.name === election.node)?.target;
  // The standby: the same election with the elected node ineligible (see `firewall.ts`).
  const standbyName = elected ? electNode({ ...electionInput, nodes: obs.nodes.map((n) => (n.name === election.node ? { ...n, eligible: false } : n)) }).node : undefined;
  const standby = obs.nodes.find((n) => n.name === standbyName)?.target;
  const steps: PlannedStep[] = [];

  steps.push(
    obs.ip
      ? decided('FindRoutedIP', 'done', `found ${obs.ip.address}${obs.ip.holder ? ` on ${holder ?? obs.ip.holder}` : ', unassigned'}`)
      : decided('FindRoutedIP', 'done', 'no address yet'),
  );
  if (!elected) {
    const why = obs.nodes.length === 0 ? 'no candidate nodes' : obs.nodes.map((n) => `${n.name}: ${n.reason || 'holds another address'}`).join('; ');
    steps.push(decided('ElectRoutedIPNode', 'failed', `${election.reason === 'occupied' ? 'EveryNodeHoldsAnAddress' : 'NoEligibleNode'}: ${why}`));
  } else {
    const r = grace?.record;
    const detail = election.reason === 'grace' && r ? `grace: ${r.reason} since ${r.since}, keeps the IP for ${obs.failover?.graceSeconds}s of failover grace` : election.reason;
    steps.push(decided('ElectRoutedIPNode', 'done', `${elected.node} (${detail})`));
  }

  let firewall: FirewallPlan | undefined;
  if (obs.firewallName === undefined) {
    steps.push(decided('FindRoutedIPFirewall', 'skipped', 'no routedIPFirewallName: firewall not managed'));
  } else if (!obs.firewall) {
    steps.push(decided('FindRoutedIPFirewall', 'failed', `FirewallNotFound: no firewall named ${obs.firewallName}`));
  } else {
    steps.push(decided('FindRoutedIPFirewall', 'done', `${obs.firewall.name} (${obs.firewall.id})`));
    firewall = planFirewall({
      firewall: obs.firewall,
      desiredPorts: obs.ports,
      sources: obs.sources,
      ...(obs.previousFirewall ? { previous: obs.previousFirewall } : {}),
      siblingPorts: obs.siblingPorts,
      siblingNodes: obs.siblingNodes,
      ...(obs.siblingAdded ? { siblingAdded: obs.siblingAdded } : {}),
      ...(obs.siblingAddedNodes ? { siblingAddedNodes: obs.siblingAddedNodes } : {}),
      ...(elected ? { elected } : {}),
      ...(standby ? { standby } : {}),
    });
  }
  steps.push(decided('FindRoutedIPPorts', 'done', portsText(obs.ports, obs.portsFrom)));

  const rulesStep = (name: 'AddRoutedIPFirewallPort' | 'DeleteRoutedIPFirewallPort', kind: 'addPorts' | 'deletePorts', rules: readonly FirewallRule[] | undefined) =>
    !firewall ? decided(name, 'skipped', 'no firewall') : rules && rules.length > 0 ? act(name, { kind, rules }, describeRules(rules)) : decided(name, 'skipped', 'nothing to change');

  if (firewall && firewall.claimRules.length > 0) {
    steps.push(decided('AddRoutedIPFirewallPort', 'pending', `recording ownership of ${describeRules(firewall.claimRules)} before adding it; the next sync adds it`));
  } else steps.push(rulesStep('AddRoutedIPFirewallPort', 'addPorts', firewall?.addRules));
  if (!firewall) steps.push(decided('AddRoutedIPFirewallNode', 'skipped', 'no firewall'));
  else if (firewall.addNode) steps.push(act('AddRoutedIPFirewallNode', { kind: 'addNode', node: firewall.addNode }, firewall.addNode.node));
  else if (firewall.claimNode) {
    steps.push(decided('AddRoutedIPFirewallNode', 'pending', `recording ownership of ${firewall.claimNode.node} before adding it to the firewall; the next sync adds it`));
  }
  else steps.push(decided('AddRoutedIPFirewallNode', 'skipped', elected ? `${elected.node} already in firewall` : 'no elected node'));

  let createIntent: IntentDecision | undefined;
  if (!elected) {
    steps.push(decided('CreateRoutedIP', obs.ip ? 'skipped' : 'pending', obs.ip ? 'address exists' : 'waiting for an eligible node'));
    steps.push(decided('AssignRoutedIP', 'pending', 'waiting for an eligible node; the IP stays where it is'));
    if (!obs.ip && obs.createIntent?.recorded) createIntent = { kind: 'keep' };
  } else {
    if (obs.ip) steps.push(decided('CreateRoutedIP', 'skipped', 'address exists'));
    else if (!obs.createIntent) steps.push(act('CreateRoutedIP', { kind: 'create', node: elected }, `on ${elected.node}`));
    else {
      const planned = planCreateWithIntent(obs.createIntent, elected, occupied);
      steps.push(planned.step);
      createIntent = planned.intent;
    }
    if (obs.ip?.pendingAction) {
      steps.push(decided('AssignRoutedIP', 'pending', `action ${obs.ip.pendingAction.id} (${obs.ip.pendingAction.type}) in progress`));
    } else if (obs.ip?.holder === elected.id) {
      steps.push(decided('AssignRoutedIP', 'skipped', `already on ${elected.node}`));
    } else {
      steps.push(act('AssignRoutedIP', { kind: 'assign', node: elected }, `to ${elected.node}`));
    }
  }

  steps.push(rulesStep('DeleteRoutedIPFirewallPort', 'deletePorts', firewall?.deleteRules));
  if (firewall && firewall.deleteNodes.length > 0) {
    steps.push(act('DeleteRoutedIPFirewallNode', { kind: 'deleteNodes', ids: firewall.deleteNodes }, firewall.deleteNodes.join(',')));
  } else {
    steps.push(decided('DeleteRoutedIPFirewallNode', 'skipped', firewall ? 'nothing to change' : 'no firewall'));
  }
  return {
    election,
    ...(holder !== undefined ? { holder } : {}),
    ...(firewall ? { firewall } : {}),
    steps: haltAfterBlocked(steps),
    ...(createIntent ? { createIntent } : {}),
    ...(grace?.record ? { grace } : {}),
  };
}

/**
 * CreateRoutedIP where addresses carry no mark: record an intent (this sync creates nothing),
 * create on an open intent's target while it is still the elected node, or wait until an intent
 * that may still produce an address has expired (see `intent.ts`).
 */
function planCreateWithIntent(obs: IntentObservation, elected: NodeTarget, occupied: ReadonlySet<string> | undefined): { step: PlannedStep; intent: IntentDecision } {
  const state = intentState(obs, occupied);
  const r = obs.recorded;
  if (state === 'absent' || state === 'expired' || !r) {
    return { step: decided('CreateRoutedIP', 'pending', `recording the intent to create on ${elected.node}; the next sync creates`), intent: { kind: 'record', node: elected } };
  }
  if (state === 'open' && r.node === elected.node && r.target === elected.id) {
    return { step: act('CreateRoutedIP', { kind: 'create', node: elected }, `on ${elected.node} (intent of ${r.since})`), intent: { kind: 'keep' } };
  }
  return { step: decided('CreateRoutedIP', 'pending', `a create on ${r.node} may still land until ${intentExpiry(r)}; waiting before choosing again`), intent: { kind: 'keep' } };
}

/**
 * A step decided `failed` or `pending` blocks every later action in the plan itself, so an
 * unsafe write (an assign without a firewall, a delete during a move) is never even listed.
 */
export function haltAfterBlocked(steps: readonly PlannedStep[]): PlannedStep[] {
  const blocker = steps.find((s) => s.action === undefined && (s.outcome === 'failed' || s.outcome === 'pending'));
  if (!blocker) return [...steps];
  const at = steps.indexOf(blocker);
  return steps.map((s, i) => (i > at && s.action !== undefined ? decided(s.name, 'pending', `waiting for ${blocker.name}`) : s));
}
