/**
 * What a hook call produces, and the shared ways of producing it when things go wrong: a cloud
 * error (carry the previous status forward, explain, back off) or a spec problem (explain, wait
 * for the user). A spent rate budget becomes a throttle: HTTP 429 with `Retry-After`.
 */
import type { FastifyBaseLogger } from 'fastify';
import { IssuerAuthError, IssuerRateLimitError, type IssuerError } from '../issuers/errors.js';
import type { HookSession } from '../issuers/session.js';
import type { RoutedIPStatus } from '../schemas/routed-ip.js';
import type { StepName } from '../plan/steps.js';
import { backoffSeconds, MAX_BACKOFF_SECONDS } from './backoff.js';
import { isFalse, isTrue, isUnknown, type ConditionType, type ConditionValue } from './conditions.js';
import type { ConfigProblem, IssuerSettings, SyncContext } from './context.js';
import { assembleStatus } from './status.js';

/** Dependencies of a run. */
export interface RunDeps {
  readonly logger: FastifyBaseLogger;
  /** The hook call's session with the cloud account: deadline, signal, locks. */
  readonly session: HookSession;
  readonly clock: () => Date;
  readonly onWrite?: (step: StepName, outcome: 'done' | 'pending' | 'failed') => void;
}

/** A hook call's result: the status to write, or a throttle. */
export interface Outcome {
  readonly status: RoutedIPStatus;
  readonly resyncAfterSeconds?: number;
  /** Only on finalizing calls, and only once the cloud was observed clean. */
  readonly finalized?: boolean;
  /** Set when the hook must answer 429 with this Retry-After instead. */
  readonly throttleSeconds?: number;
}

/** IssuerReady from the settings and the error of this call, if any. */
export function issuerReady(settings: IssuerSettings, error: IssuerError | undefined): ConditionValue {
  if (error instanceof IssuerAuthError) return isFalse(error.reason, error.message);
  return isTrue('IssuerReady', `RoutedIPIssuer ${settings.namespace}/${settings.name} (${settings.provider})`);
}

/** Adds the resync decision: throttle for rate limits, backoff for errors, `normal()` otherwise. */
export function finishOutcome(status: RoutedIPStatus, error: IssuerError | undefined, now: Date, normal: () => number | undefined): Outcome {
  if (error instanceof IssuerRateLimitError) return { status, throttleSeconds: error.retryAfterSeconds };
  // A failure caused by one node's machine (IssuerError.node) is not the user's to fix: the
  // cluster changes (nodes come and go), so it backs off like a retryable one.
  if (error) return { status, resyncAfterSeconds: error.retryable || error.node !== undefined ? backoffSeconds(status.conditions, now) : MAX_BACKOFF_SECONDS };
  const resync = normal();
  return resync === undefined ? { status } : { status, resyncAfterSeconds: resync };
}

const previousValue = (ctx: SyncContext, type: ConditionType): ConditionValue => {
  const c = ctx.previous.conditions.find((x) => x.type === type);
  return c ? { status: c.status, reason: c.reason, message: c.message } : isUnknown('NotObserved', 'not observed yet');
};

/** Status for a call that failed before it could observe: previous values carried forward. */
function carried(ctx: SyncContext, provider: string | undefined, steps: RoutedIPStatus['steps'], now: Date, overrides: Partial<Record<ConditionType, ConditionValue>>): RoutedIPStatus {
  const p = ctx.previous;
  const value = (t: Exclude<ConditionType, 'Ready'>) => overrides[t] ?? previousValue(ctx, t);
  return assembleStatus({
    generation: ctx.generation,
    now,
    previous: p,
    ...(provider !== undefined ? { provider } : p.provider !== undefined ? { provider: p.provider } : {}),
    ...(p.address !== undefined ? { address: p.address } : {}),
    ...(p.node !== undefined ? { node: p.node } : {}),
    ...(p.electedNode !== undefined ? { electedNode: p.electedNode } : {}),
    ...(p.firewall ? { firewall: p.firewall } : {}),
    ...(p.createIntent ? { createIntent: p.createIntent } : {}),
    ...(p.holderIneligible ? { holderIneligible: p.holderIneligible } : {}),
    ...(p.pendingAction ? { pendingAction: { id: p.pendingAction.id, type: p.pendingAction.type, ...(p.pendingAction.node !== undefined ? { target: p.pendingAction.node } : {}) } } : {}),
    steps,
    conditions: { IPAllocated: value('IPAllocated'), Assigned: value('Assigned'), FirewallReady: value('FirewallReady'), IssuerReady: value('IssuerReady') },
    ...(overrides.Ready ? { notReady: overrides.Ready } : {}),
  });
}

/** Steps list where `failed` failed and every other step waits. */
const stepsFailedAt = (names: readonly StepName[], failed: StepName, detail: string): RoutedIPStatus['steps'] => {
  const at = names.indexOf(failed);
  return names.map((name, i) =>
    i < at ? { name, outcome: 'done' as const, detail: 'read' } : i === at ? { name, outcome: 'failed' as const, detail } : { name, outcome: 'pending' as const, detail: `waiting for ${failed}` },
  );
};

/** A cloud read failed: carry the previous status forward, explain, back off or throttle. */
export function carriedForward(ctx: SyncContext, settings: IssuerSettings, names: readonly StepName[], failed: StepName, error: IssuerError, now: Date): Outcome {
  const status = carried(ctx, settings.provider, stepsFailedAt(names, failed, `${error.reason}: ${error.message}`), now, {
    Ready: isFalse(error.reason, error.message),
    IssuerReady: issuerReady(settings, error),
  });
  return finishOutcome(status, error, now, () => undefined);
}

/** The issuer cannot be used (missing, invalid, bad credentials): say so and wait for the user. */
export function configProblem(ctx: SyncContext, names: readonly StepName[], problem: ConfigProblem, now: Date): Outcome {
  const status = carried(ctx, undefined, names.map((name) => ({ name, outcome: 'pending' as const, detail: `waiting for a usable issuer (${problem.reason})` })), now, {
    Ready: isFalse(problem.reason, problem.message),
    IssuerReady: isFalse(problem.reason, problem.message),
  });
  return { status, resyncAfterSeconds: MAX_BACKOFF_SECONDS };
}
