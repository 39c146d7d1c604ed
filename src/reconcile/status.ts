/**
 * Builds the complete RoutedIP status from what this call observed and did, carrying the previous
 * value forward for anything it could not observe (a cloud failure must not blank the status).
 * Every list is sorted and every text deterministic: same inputs, same bytes.
 */
import type { IssuerError } from '../issuers/errors.js';
import type { ObservedFirewall, PendingAction } from '../issuers/issuer.js';
import { PortSources, type FirewallPlan } from '../plan/firewall.js';
import { sortPorts } from '../plan/ports.js';
import { STATUS_TEXT_MAX, type CreateIntent, type FirewallPort, type HolderIneligible, type FirewallStatus, type RoutedIPStatus, type StepStatus } from '../schemas/routed-ip.js';
import { buildConditions, isFalse, isTrue, type ConditionType, type ConditionValue } from './conditions.js';
import type { StatusHint } from './hints.js';

/** Firewall facts after execution. */
export interface FirewallOutcome {
  readonly observed: ObservedFirewall;
  readonly plan: FirewallPlan;
  readonly desiredPorts: readonly FirewallPort[];
  /** The issuer's sources for `desiredPorts`. */
  readonly sources: readonly string[];
  /** Cloud ids this RoutedIP needs in the firewall (elected node and current holder). */
  readonly neededNodes: readonly string[];
  readonly deletedPorts: boolean;
  readonly deletedNodes: boolean;
}

/**
 * The ownership record after this call's writes: what is owned and present, every claim the plan
 * records (wanted entries absent from the cloud, added now or by the next sync; the standby), minus
 * what this call removed. Claims do not depend on whether an add was sent or answered: they are
 * recorded before it, so a lost answer or an abandoned call leaves the record complete.
 */
export function firewallStatus(f: FirewallOutcome): FirewallStatus {
  const added = new PortSources();
  for (const r of f.plan.owned) added.add(r, r.sources);
  if (f.deletedPorts) for (const r of f.plan.deleteRules) added.remove(r, r.sources);
  for (const r of f.plan.claims) added.add(r, r.sources);
  const nodes = new Set(f.plan.recordedNodes);
  if (f.deletedNodes) for (const id of f.plan.deleteNodes) nodes.delete(id);
  for (const id of f.plan.nodeClaims) nodes.add(id);
  return {
    id: f.observed.id,
    name: f.observed.name,
    ports: sortPorts(f.desiredPorts),
    sources: [...new Set(f.sources)].sort(),
    nodes: [...new Set(f.neededNodes)].sort(),
    addedPorts: added.rules().map((r) => ({ protocol: r.protocol, port: r.port, sources: [...r.sources] })),
    addedNodes: [...nodes].sort(),
  };
}

/**
 * `text` cut to STATUS_TEXT_MAX characters (ending in `…` when cut), never inside a surrogate
 * pair. Every step detail and condition message goes through it: a detail listing 5,000 nodes or
 * a cloud's long answer must not push the status towards etcd's object limit. Deterministic, and
 * transition times depend on the status only, so a cut message never causes a hot loop.
 */
export function clip(text: string): string {
  if (text.length <= STATUS_TEXT_MAX) return text;
  let end = STATUS_TEXT_MAX - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** The facts a status is made of. */
export interface StatusFacts {
  readonly generation: number;
  readonly now: Date;
  readonly previous: StatusHint;
  readonly provider?: string;
  readonly address?: string;
  readonly node?: string;
  readonly electedNode?: string;
  readonly firewall?: FirewallStatus;
  readonly pendingAction?: PendingAction;
  readonly createIntent?: CreateIntent;
  readonly holderIneligible?: HolderIneligible;
  readonly steps: readonly StepStatus[];
  readonly conditions: Readonly<Record<Exclude<ConditionType, 'Ready'>, ConditionValue>>;
  /** Overrides `Ready` (a failure or a dry run explains itself there). */
  readonly notReady?: ConditionValue;
}

/** Assembles the status; `Ready` is True exactly when IPAllocated, Assigned, FirewallReady and IssuerReady all are (unless `notReady` overrides it). */
export function assembleStatus(f: StatusFacts): RoutedIPStatus {
  const c = f.conditions;
  const blocking = (['IPAllocated', 'Assigned', 'FirewallReady', 'IssuerReady'] as const).find((t) => c[t].status !== 'True');
  const ready: ConditionValue =
    f.notReady ?? (blocking === undefined ? isTrue('Ready', `${f.address} is on ${f.node}`) : isFalse(c[blocking].reason, c[blocking].message));
  const conditions = buildConditions({ Ready: ready, ...c }, f.previous.conditions, f.now, f.generation).map((x) => ({ ...x, message: clip(x.message) }));
  return {
    observedGeneration: f.generation,
    ...(f.address !== undefined ? { address: f.address } : {}),
    ...(f.provider !== undefined ? { provider: f.provider } : {}),
    ...(f.node !== undefined ? { node: f.node } : {}),
    ...(f.electedNode !== undefined ? { electedNode: f.electedNode } : {}),
    ...(f.firewall ? { firewall: f.firewall } : {}),
    ...(f.pendingAction ? { pendingAction: { id: f.pendingAction.id, type: f.pendingAction.type, ...(f.pendingAction.target !== undefined ? { node: f.pendingAction.target } : {}) } } : {}),
    ...(f.createIntent ? { createIntent: { ...f.createIntent, knownAddresses: [...f.createIntent.knownAddresses].sort() } } : {}),
    ...(f.holderIneligible ? { holderIneligible: { ...f.holderIneligible, reason: clip(f.holderIneligible.reason) } } : {}),
    steps: f.steps.map((s) => ({ ...s, detail: clip(s.detail) })),
    conditions,
  };
}

/** The condition a failed call reports. */
export const failureCondition = (error: IssuerError): ConditionValue => isFalse(error.reason, error.message);
