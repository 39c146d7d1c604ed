/**
 * Entry point of the reconcile layer for `/sync` and `/finalize`: builds the context, resolves the
 * issuer through the registry, and runs the sync or the finalize. Never throws: cloud and spec
 * problems, and any unexpected error while building the issuer or running a step, become
 * conditions on the RoutedIP.
 */
import { IssuerDeadlineError, IssuerError } from '../issuers/errors.js';
import type { RoutedIPIssuer } from '../issuers/issuer.js';
import type { IssuerRegistry } from '../issuers/registry.js';
import type { SyncRequest } from '../schemas/metacontroller.js';
import { FINALIZE_STEPS, SYNC_STEPS, type StepName } from '../plan/steps.js';
import { buildContext, isProblem, type ConfigProblem, type SyncContext } from './context.js';
import { DEFAULT_POLICY, policyProblem, providerUnavailable, type IssuerPolicy } from './policy.js';
import { runFinalize } from './finalize.js';
import { carriedForward, configProblem, type Outcome, type RunDeps } from './outcome.js';
import { runSync } from './sync.js';

/** Name of the finalizer Metacontroller puts on RoutedIPs (CompositeController `routedip`). */
export const FINALIZER = 'metacontroller.io/compositecontroller-routedip';

/**
 * What a RoutedIP's previous status says it may hold in a cloud: an address, a node, an action in
 * progress, firewall entries it added. Empty when none (a RoutedIP that never got past InvalidSpec).
 */
function recordedHoldings(ctx: SyncContext): string[] {
  const p = ctx.previous;
  const held: string[] = [];
  if (p.address !== undefined) held.push(`address ${p.address}`);
  if (p.node !== undefined) held.push(`node ${p.node}`);
  if (p.pendingAction) held.push(`action ${p.pendingAction.id}`);
  if (p.firewall && (p.firewall.addedPorts.length > 0 || p.firewall.addedNodes.length > 0)) held.push(`entries in firewall ${p.firewall.name}`);
  return held;
}

/**
 * Finalize of a RoutedIP whose spec has no valid issuerRef: no cloud can be reached. Nothing to
 * clean means the status records nothing this RoutedIP could hold; then the deletion finishes.
 * Otherwise it waits, saying what is held and how to let go (the status is the only record).
 */
function invalidSpecFinalize(ctx: SyncContext, problem: ConfigProblem, now: Date): Outcome {
  const held = recordedHoldings(ctx);
  const message =
    held.length === 0
      ? `${problem.message}; nothing was allocated for it, so the deletion completes`
      : `${problem.message}; the status records ${held.join(', ')}: deletion waits until the spec is valid, or remove the finalizer ${FINALIZER} to abandon them`;
  const outcome = configProblem(ctx, FINALIZE_STEPS, { reason: problem.reason, message }, now);
  return { ...outcome, finalized: held.length === 0 };
}

/** Dependencies of the reconcile layer. */
export interface ReconcileDeps extends RunDeps {
  readonly registry: IssuerRegistry;
  /** What issuers may make the operator do (endpoint hosts, ambient credentials). @default DEFAULT_POLICY */
  readonly policy?: IssuerPolicy;
  /** This cluster's identity (`CLUSTER_NAME`), marked on created addresses. */
  readonly cluster?: string;
}

/** Handles a sync or finalize request (`request.finalizing` decides). */
export async function reconcile(request: SyncRequest, deps: ReconcileDeps): Promise<Outcome> {
  const policy = deps.policy ?? DEFAULT_POLICY;
  const ctx = buildContext(request, policy.operatorNamespace);
  const finalizing = request.finalizing === true;
  const names = finalizing ? FINALIZE_STEPS : SYNC_STEPS;
  const now = deps.clock();
  const blocked = (problem: ConfigProblem): Outcome => {
    const hint = finalizing ? { ...problem, message: `${problem.message}; deletion waits until the issuer is usable, or remove the finalizer ${FINALIZER} to abandon the cloud resources` } : problem;
    const outcome = configProblem(ctx, names, hint, now);
    return finalizing ? { ...outcome, finalized: false } : outcome;
  };

  if (ctx.specProblem) {
    // Sync does nothing for an invalid spec. Finalize goes on when the issuer is still known
    // (it needs only issuerRef, and `adopts` keeps an adopted IP from being released); without
    // an issuer nothing can be cleaned, so it may only finish when nothing was ever recorded.
    if (!finalizing) return blocked(ctx.specProblem);
    if (!ctx.parent.spec) return invalidSpecFinalize(ctx, ctx.specProblem, now);
  }
  if (isProblem(ctx.issuer)) return blocked(ctx.issuer);
  const settings = ctx.issuer;
  const refused = policyProblem(settings, policy);
  if (refused) return blocked(refused);
  const factory = deps.registry[settings.provider];
  if (!factory) return blocked({ reason: 'ProviderNotAvailable', message: providerUnavailable(settings.provider) });
  // Anything unexpected (a bug, a hostile input nobody foresaw) becomes a condition on this
  // RoutedIP with its status carried forward and a backoff — never a 500, which Metacontroller
  // would retry forever and which would block /finalize, so the RoutedIP could never be deleted.
  const unexpected = (phase: string, err: unknown): Outcome => {
    const name = err instanceof Error ? err.name : typeof err;
    deps.logger.error({ err, phase }, 'unexpected error');
    const error = new IssuerError(`internal error (${name}) while ${phase}; retried with backoff, details in the operator's log`, 'InternalError', true);
    const outcome = carriedForward(ctx, settings, names, names[0] as StepName, error, now);
    return finalizing ? { ...outcome, finalized: false } : outcome;
  };
  let issuer: RoutedIPIssuer;
  try {
    issuer = await factory({ kind: settings.kind, namespace: settings.namespace, name: settings.name, spec: settings.spec, secrets: ctx.secrets, logger: deps.logger, session: deps.session, ...(deps.cluster !== undefined ? { cluster: deps.cluster } : {}) });
  } catch (err) {
    if (err instanceof IssuerError) return blocked({ reason: err.reason, message: err.message });
    return unexpected('building the issuer', err);
  }
  // One RoutedIP is worked on by one call at a time in this process: Metacontroller requeues a
  // timed-out key at once, and the abandoned call must not overlap its retry. The wait ends at
  // the deadline with the status carried forward.
  try {
    return await deps.session.serialize([`routedip/${ctx.owner.uid}`], 'another call for this RoutedIP finished', () =>
      finalizing ? runFinalize(ctx, settings, issuer, deps) : runSync(ctx, settings, issuer, deps),
    );
  } catch (err) {
    if (!(err instanceof IssuerDeadlineError)) return unexpected(finalizing ? 'finalizing' : 'syncing', err);
    const outcome = carriedForward(ctx, settings, names, 'FindRoutedIP', err, deps.clock());
    return finalizing ? { ...outcome, finalized: false } : outcome;
  }
}
