/**
 * Reading a RoutedIP's previous status defensively. `parent.status` (and a sibling's) is a hint:
 * it may be stale, lost, or written by an older version of the service, so each field is taken
 * only when it has the expected shape and ignored otherwise.
 */
import { isValid } from '../schemas/check.js';
import {
  ConditionSchema,
  CreateIntentSchema,
  FirewallStatusSchema,
  HolderIneligibleSchema,
  PendingActionSchema,
  type Condition,
  type CreateIntent,
  type FirewallStatus,
  type HolderIneligible,
  type PendingActionStatus,
} from '../schemas/routed-ip.js';

/** The parts of a previous status the service reuses. */
export interface StatusHint {
  readonly address?: string;
  readonly provider?: string;
  readonly node?: string;
  readonly electedNode?: string;
  readonly firewall?: FirewallStatus;
  readonly pendingAction?: PendingActionStatus;
  readonly createIntent?: CreateIntent;
  readonly holderIneligible?: HolderIneligible;
  readonly conditions: readonly Condition[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Extracts a `StatusHint` from anything; never throws. */
export function readStatusHint(status: unknown): StatusHint {
  if (typeof status !== 'object' || status === null) return { conditions: [] };
  const s = status as Record<string, unknown>;
  const hint: { -readonly [K in keyof StatusHint]: StatusHint[K] } = {
    conditions: Array.isArray(s.conditions) ? s.conditions.filter((c): c is Condition => isValid(ConditionSchema, c)) : [],
  };
  for (const key of ['address', 'provider', 'node', 'electedNode'] as const) {
    const v = str(s[key]);
    if (v !== undefined) hint[key] = v;
  }
  if (isValid(FirewallStatusSchema, s.firewall)) hint.firewall = s.firewall;
  if (isValid(PendingActionSchema, s.pendingAction)) hint.pendingAction = s.pendingAction;
  if (isValid(CreateIntentSchema, s.createIntent)) hint.createIntent = s.createIntent;
  if (isValid(HolderIneligibleSchema, s.holderIneligible)) hint.holderIneligible = s.holderIneligible;
  return hint;
}
