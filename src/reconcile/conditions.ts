/**
 * Conditions with Kubernetes semantics: `lastTransitionTime` changes only when `status` changes,
 * so two syncs over the same observation produce the same bytes (no Metacontroller hot loop).
 */
import type { Condition } from '../schemas/routed-ip.js';

/** Condition types, in the order they are reported. */
export const CONDITION_TYPES = ['Ready', 'IPAllocated', 'Assigned', 'FirewallReady', 'IssuerReady'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

/** A condition as computed, before the transition time is decided. */
export interface ConditionValue {
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** Time stamp format of `metav1.Time`: RFC 3339, second precision. */
export const kubeTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Builds the condition list in `CONDITION_TYPES` order, keeping each previous
 * `lastTransitionTime` when the status did not change.
 */
export function buildConditions(
  values: Readonly<Record<ConditionType, ConditionValue>>,
  previous: readonly Condition[],
  now: Date,
  generation: number,
): Condition[] {
  return conditionList(CONDITION_TYPES, values, previous, now, generation);
}

/** `buildConditions` for any set of condition types (other controllers' statuses), in `types` order. */
export function conditionList<T extends string>(
  types: readonly T[],
  values: Readonly<Record<T, ConditionValue>>,
  previous: readonly Condition[],
  now: Date,
  generation: number,
): Condition[] {
  return types.map((type) => {
    const v = values[type];
    const before = previous.find((c) => c.type === type);
    const lastTransitionTime = before && before.status === v.status ? before.lastTransitionTime : kubeTime(now);
    return { type, status: v.status, reason: v.reason, message: v.message, lastTransitionTime, observedGeneration: generation };
  });
}

/** Shorthands. */
export const isTrue = (reason: string, message: string): ConditionValue => ({ status: 'True', reason, message });
export const isFalse = (reason: string, message: string): ConditionValue => ({ status: 'False', reason, message });
export const isUnknown = (reason: string, message: string): ConditionValue => ({ status: 'Unknown', reason, message });
