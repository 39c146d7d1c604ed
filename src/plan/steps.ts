/**
 * Step names (PRODUCT.md), the actions a step can carry, and the planned-step shape shared by
 * the sync and finalize plans.
 */
import type { FirewallRule, NodeTarget } from '../issuers/issuer.js';
import type { StepOutcome } from '../schemas/routed-ip.js';

/** Every step, in the order a sync reports them. */
export const SYNC_STEPS = [
  'FindRoutedIP',
  'ElectRoutedIPNode',
  'FindRoutedIPFirewall',
  'FindRoutedIPPorts',
  'AddRoutedIPFirewallPort',
  'AddRoutedIPFirewallNode',
  'CreateRoutedIP',
  'AssignRoutedIP',
  'DeleteRoutedIPFirewallPort',
  'DeleteRoutedIPFirewallNode',
] as const;

/** Steps of a finalize with reclaim policy Delete. */
export const FINALIZE_STEPS = [
  'FindRoutedIP',
  'FindRoutedIPFirewall',
  'DeleteRoutedIP',
  'DeleteRoutedIPFirewallPort',
  'DeleteRoutedIPFirewallNode',
] as const;

export type StepName = (typeof SYNC_STEPS)[number] | (typeof FINALIZE_STEPS)[number];

/** A cloud write a step performs. */
export type StepAction =
  | { readonly kind: 'addPorts'; readonly rules: readonly FirewallRule[] }
  | { readonly kind: 'addNode'; readonly node: NodeTarget }
  | { readonly kind: 'create'; readonly node: NodeTarget }
  | { readonly kind: 'assign'; readonly node: NodeTarget }
  | { readonly kind: 'deletePorts'; readonly rules: readonly FirewallRule[] }
  | { readonly kind: 'deleteNodes'; readonly ids: readonly string[] }
  /** DeleteRoutedIP: detach the IP when attached, then release it when the operator created it. */
  | { readonly kind: 'delete'; readonly unassign: boolean; readonly release: boolean };

/**
 * A planned step. With an `action`, the executor performs it (outcome decided then); without,
 * `outcome` is already known from the observation (`done` for reads, `skipped` when already
 * true, `failed` when the plan cannot go on, `pending` when the step waits for something).
 * A `failed` or `pending` planned step halts every later action.
 */
export type PlannedStep =
  | { readonly name: StepName; readonly action: StepAction; readonly detail: string }
  | { readonly name: StepName; readonly action?: undefined; readonly outcome: StepOutcome; readonly detail: string };

/** A step decided at plan time. */
export const decided = (name: StepName, outcome: StepOutcome, detail: string): PlannedStep => ({ name, outcome, detail });

/** A step that performs `action`. */
export const act = (name: StepName, action: StepAction, detail: string): PlannedStep => ({ name, action, detail });

/** Short text for rules: `tcp/80,tcp/443 from 0.0.0.0/0,::/0`. */
export function describeRules(rules: readonly FirewallRule[]): string {
  return rules.map((r) => `${r.protocol}/${r.port} from ${r.sources.join(',')}`).join('; ');
}
