/**
 * One `/sync`: observe → plan → execute → status. Cloud failures become conditions and backoff,
 * never exceptions; the previous status is carried forward for whatever could not be observed.
 */
import type { ObservedFirewall, RoutedIPIssuer } from '../issuers/issuer.js';
import type { JudgedNode } from '../plan/eligibility.js';
import { resolvePorts } from '../plan/ports.js';
import { planSync, type SyncPlan } from '../plan/sync-plan.js';
import { preferenceScores } from '../plan/node-preference.js';
import { SYNC_STEPS } from '../plan/steps.js';
import type { CreateIntent, FirewallPort } from '../schemas/routed-ip.js';
import { isFalse, isTrue, kubeTime, type ConditionValue } from './conditions.js';
import type { IssuerSettings, SyncContext } from './context.js';
import { executeSteps, type ExecutionResult } from './execute.js';
import { executionInput, judge, observe, siblingNeeds, type Observation } from './observe.js';
import { carriedForward, finishOutcome, issuerReady, type Outcome, type RunDeps } from './outcome.js';
import { confirms, mayReadCached, wouldWrite } from './read-policy.js';
import { assembleStatus, firewallStatus } from './status.js';
import { IssuerAuthError, IssuerDeadlineError, IssuerRateLimitError, IssuerUnavailableError } from '../issuers/errors.js';

/** Seconds between polls of an asynchronous cloud action. */
export const PENDING_POLL_SECONDS = 5;
/** Safety-net resync while waiting on something outside Kubernetes (a firewall to be created). */
export const WAITING_RESYNC_SECONDS = 60;
/**
 * Resync after a Ready sync. Nothing in Kubernetes changes when someone moves or releases the IP
 * or edits the firewall in the cloud console, so without it such drift would last until
 * Metacontroller's `resyncPeriodSeconds` (300 s, metacontroller/compositecontroller.yaml, kept as
 * the safety net behind this). Converged syncs read through the account's read cache, so drift
 * is noticed within its TTL plus this period, and reads follow accounts and the TTL, not the
 * sync rate; see docs/design.md "Drift" and "Cloud reads".
 */
export const READY_RESYNC_SECONDS = 120;
/**
 * Resync while a create intent or a firewall claim waits: the status write that records it
 * triggers the next sync already; this is the safety net, and the poll while an older intent settles.
 */
export const INTENT_RESYNC_SECONDS = 5;
/** A dry run re-plans now and then so its report follows the cloud. */
export const DRY_RUN_RESYNC_SECONDS = 300;

/**
 * Nodes re-elected away from within one sync when the cloud refuses the elected node's machine
 * (`IssuerError.node`: wrong region, no free private IP…). Each costs a fresh read and one failed
 * write; the bound keeps a sync within its deadline on a cluster where many nodes refuse.
 */
export const MAX_REFUSED_NODES = 3;

/**
 * Runs one sync for a RoutedIP whose issuer is usable. When the cloud refuses the elected node
 * for a reason of that machine, another node would do: the sync reads again and re-elects
 * without it (up to `MAX_REFUSED_NODES`), instead of waiting on a node that cannot take the IP.
 * The next sync keeps the node chosen (it holds the IP, or it is `status.electedNode`).
 */
export async function runSync(ctx: SyncContext, settings: IssuerSettings, issuer: RoutedIPIssuer, deps: RunDeps): Promise<Outcome> {
  const refused = new Map<string, string>();
  for (;;) {
    const nodes = judge(ctx, settings, issuer).map((n) => (refused.has(n.name) ? { ...n, eligible: false, reason: refused.get(n.name)! } : n));
    const attempt = await syncOnce(ctx, settings, issuer, deps, nodes);
    if (!('run' in attempt)) return attempt.outcome;
    const cause = attempt.run.error?.node;
    const another = nodes.some((n) => n.eligible && n.name !== cause);
    if (cause === undefined || cause !== attempt.plan.election.node || !another || refused.size >= MAX_REFUSED_NODES || deps.session.expired) {
      return attempt.outcome;
    }
    const error = attempt.run.error!;
    deps.logger.info({ node: cause, reason: error.reason }, 'the cloud refused the elected node; re-electing without it');
    refused.set(cause, `refused by the cloud in this sync (${error.reason})`);
    // The next pass plans from the same parent.status: every entry the first pass added was
    // claimed there already (or carries the cloud's mark), and a claim the first pass made is not
    // a claim until Metacontroller has written it, so the next pass must not act on it.
  }
}

/** Failures of the call itself (no answer, refused, throttled, out of time), never of a cached answer. */
const SENT_FAILURES = [IssuerRateLimitError, IssuerDeadlineError, IssuerUnavailableError, IssuerAuthError];

type PassResult = { outcome: Outcome } | { outcome: Outcome; plan: SyncPlan; run: ExecutionResult };

/**
 * One sync over `nodes`: first from the account's cached reads when that may only confirm the
 * previous status (src/reconcile/read-policy.ts); otherwise, or when that pass would write or
 * change anything, observed fresh, planned and executed.
 */
async function syncOnce(ctx: SyncContext, settings: IssuerSettings, issuer: RoutedIPIssuer, deps: RunDeps, nodes: readonly JudgedNode[]): Promise<PassResult> {
  if (mayReadCached(ctx)) {
    const confirmed = await deps.session.withReads('cached', () => pass(ctx, settings, issuer, deps, nodes, true));
    if (confirmed) return confirmed;
  }
  return (await pass(ctx, settings, issuer, deps, nodes, false))!;
}

/**
 * One observe → plan → execute pass. When `cachedReads` took any stored answer, it returns
 * `undefined` instead of writing, or of answering anything but the previous status.
 */
async function pass(ctx: SyncContext, settings: IssuerSettings, issuer: RoutedIPIssuer, deps: RunDeps, nodes: readonly JudgedNode[], cachedReads: boolean): Promise<PassResult | undefined> {
  const stored = deps.session.storedAnswers;
  const seen = await observe(ctx, settings, issuer, nodes);
  // Reads that all went to the cloud (the cache was cold or dropped by a write) are fresh ones:
  // then this pass is as good as a fresh one and may act.
  const confirmOnly = cachedReads && deps.session.storedAnswers > stored;
  if (seen.error) {
    // A call that failed was sent (failures are never cached): reported as it is. A failure
    // judged from an answer (not found, invalid, ambiguous) may come from a cached one: read again.
    if (confirmOnly && !SENT_FAILURES.some((c) => seen.error instanceof c)) return undefined;
    return { outcome: carriedForward(ctx, settings, SYNC_STEPS, seen.failedStep ?? 'FindRoutedIP', seen.error, deps.clock()) };
  }

  const spec = ctx.parent.spec;
  const resolved = resolvePorts({
    slices: ctx.slices,
    ...(ctx.pods ? { pods: ctx.pods } : {}),
    ...(ctx.service?.spec?.selector ? { selector: ctx.service.spec.selector } : {}),
    ...(spec?.ports ? { explicit: spec.ports } : {}),
  });
  const ports = resolved.ports;
  const needs = siblingNeeds(ctx, seen.firewall?.id);
  const plan = planSync({
    ownerUid: ctx.owner.uid,
    nodes,
    ...(seen.ip ? { ip: seen.ip } : {}),
    ...(ctx.previous.electedNode !== undefined ? { previousElected: ctx.previous.electedNode } : {}),
    ...(ctx.previous.firewall ? { previousFirewall: ctx.previous.firewall } : {}),
    taken: needs.taken,
    ...(settings.firewallName !== undefined ? { firewallName: settings.firewallName } : {}),
    ...(seen.firewall ? { firewall: seen.firewall } : {}),
    ports,
    portsFrom: resolved.from,
    sources: settings.sources,
    siblingPorts: needs.siblingPorts,
    siblingNodes: needs.siblingNodes,
    siblingAdded: needs.siblingAdded,
    siblingAddedNodes: needs.siblingAddedNodes,
    ...(seen.occupied ? { occupied: seen.occupied } : {}),
    ...(spec?.nodePreference ? { preference: preferenceScores(ctx.nodes, spec.nodePreference) } : {}),
    ...(spec?.failover?.graceSeconds
      ? { failover: { graceSeconds: spec.failover.graceSeconds, ...(ctx.previous.holderIneligible ? { recorded: ctx.previous.holderIneligible } : {}), now: deps.clock().getTime() } }
      : {}),
    ...(issuer.ownership === 'intent'
      ? {
          createIntent: { ...(ctx.previous.createIntent ? { recorded: ctx.previous.createIntent } : {}), now: deps.clock().getTime() },
          siblingIntents: ctx.siblings.flatMap((s) => (s.createIntent ? [{ uid: s.uid, node: s.createIntent.node, since: s.createIntent.since }] : [])),
        }
      : {}),
  });
  if (confirmOnly && wouldWrite(plan.steps, settings.dryRun)) return undefined;
  const run = await executeSteps(plan.steps, executionInput(ctx, settings, issuer, seen, deps));
  const now = deps.clock();
  const outcome = syncOutcome({ ctx, settings, nodes, ...(seen.firewall ? { firewall: seen.firewall } : {}), plan, run, ports, now, createIntent: intentStatus(ctx, plan, run, seen, now) });
  if (confirmOnly && !confirms(outcome.status, ctx.parent.status)) return undefined;
  return { plan, run, outcome };
}

/** Everything the sync status is computed from. */
interface SyncFacts {
  readonly ctx: SyncContext;
  readonly settings: IssuerSettings;
  readonly nodes: readonly JudgedNode[];
  readonly firewall?: ObservedFirewall;
  readonly plan: SyncPlan;
  readonly run: ExecutionResult;
  readonly ports: readonly FirewallPort[];
  readonly now: Date;
  readonly createIntent?: CreateIntent;
}

/**
 * `status.createIntent` after this sync: a new one (aimed at the elected node, with every
 * address the region holds now), the recorded one kept, or none once an address is known.
 */
function intentStatus(ctx: SyncContext, plan: SyncPlan, run: ExecutionResult, seen: Observation, now: Date): CreateIntent | undefined {
  const decision = plan.createIntent;
  if (run.ip || !decision) return undefined;
  if (decision.kind === 'keep') return ctx.previous.createIntent;
  return { node: decision.node.node, target: decision.node.id, since: kubeTime(now), knownAddresses: [...(seen.inventory?.addresses ?? [])] };
}

function syncOutcome(f: SyncFacts): Outcome {
  const { ctx, settings, plan, run, ports } = f;
  const electedNode = plan.election.node;
  const elected = f.nodes.find((n) => n.name === electedNode)?.target?.id;
  const nameOf = (id: string | undefined) => (id === undefined ? undefined : (f.nodes.find((n) => n.target?.id === id)?.name ?? id));
  const ip = run.ip;
  const pending = run.pendingAction ?? ip?.pendingAction;
  const holderId = run.completed.has('assign') && !run.pendingAction ? elected : ip?.holder;
  const fwStatus =
    plan.firewall && f.firewall
      ? firewallStatus({
          observed: f.firewall,
          plan: plan.firewall,
          desiredPorts: ports,
          sources: settings.sources,
          neededNodes: [elected, holderId].filter((x): x is string => x !== undefined),
          deletedPorts: run.completed.has('deletePorts'),
          deletedNodes: run.completed.has('deleteNodes'),
        })
      : undefined;
  const fwBusy = run.steps.some((s) => FIREWALL_WRITES.has(s.name) && (s.outcome === 'pending' || s.outcome === 'failed'));
  const portsText = ports.map((p) => `${p.protocol}/${p.port}`).join(',') || 'no ports';

  const firewallReady: ConditionValue =
    settings.firewallName === undefined
      ? isTrue('FirewallNotManaged', 'no routedIPFirewallName: the firewall is not managed')
      : !f.firewall
        ? isFalse('FirewallNotFound', `no firewall named ${settings.firewallName}: the IP is not assigned until it exists`)
        : run.error && run.failedStep !== undefined && FIREWALL_WRITES.has(run.failedStep)
          ? // A firewall write that failed says why on the firewall's own condition (e.g. FirewallDropletLimit).
            isFalse(run.error.reason, run.error.message)
          : fwBusy
            ? isFalse('FirewallPending', `firewall ${settings.firewallName} is not converged yet`)
          : isTrue('FirewallConverged', `firewall ${settings.firewallName} open on ${portsText}`);
  const assigned: ConditionValue =
    electedNode === undefined
      ? isFalse('NoEligibleNode', 'no eligible node: the IP stays where it is')
      : pending
        ? isFalse('AssignPending', `moving to ${electedNode}: action ${pending.id} in progress`)
        : holderId !== undefined && holderId === elected
          ? isTrue('Assigned', `${ip?.address} points at ${electedNode}`)
          : isFalse('NotAssigned', `${ip?.address ?? 'the address'} is not on ${electedNode} yet`);
  const allocated: ConditionValue = ip
    ? isTrue(ctx.parent.spec?.address ? 'Adopted' : 'Allocated', `address ${ip.address}`)
    : isFalse('NotAllocated', 'no address yet');
  const notReady = run.error
    ? isFalse(run.error.reason, run.error.message)
    : settings.dryRun
      ? isFalse('DryRun', 'dryRun is set: steps are planned and reported, never executed')
      : undefined;
  const holderName = nameOf(holderId);
  const status = assembleStatus({
    generation: ctx.generation,
    now: f.now,
    previous: ctx.previous,
    provider: settings.provider,
    ...(ip ? { address: ip.address } : {}),
    ...(holderName !== undefined ? { node: holderName } : {}),
    ...(electedNode !== undefined ? { electedNode } : {}),
    ...(fwStatus ? { firewall: fwStatus } : {}),
    ...(pending ? { pendingAction: pending } : {}),
    ...(f.createIntent ? { createIntent: f.createIntent } : {}),
    // Dropped once the IP has left that node (this sync's assign completed).
    ...(plan.grace?.record && plan.grace.record.node === holderName ? { holderIneligible: plan.grace.record } : {}),
    steps: run.steps,
    conditions: { IPAllocated: allocated, Assigned: assigned, FirewallReady: firewallReady, IssuerReady: issuerReady(settings, run.error) },
    ...(notReady ? { notReady } : {}),
  });
  const resync = (): number => {
    if (pending) return PENDING_POLL_SECONDS;
    if (f.createIntent || claiming(plan)) return INTENT_RESYNC_SECONDS;
    if (settings.dryRun) return DRY_RUN_RESYNC_SECONDS;
    return status.conditions.find((c) => c.type === 'Ready')?.status === 'True' ? READY_RESYNC_SECONDS : WAITING_RESYNC_SECONDS;
  };
  // A holder kept for its failover grace is looked at again when the grace ends, and not later.
  const graceLeft = plan.grace?.remainingSeconds;
  return finishOutcome(status, run.error, f.now, () => (graceLeft === undefined ? resync() : Math.min(resync(), graceLeft)));
}

/** True when this sync records a firewall claim that the next sync acts on (the status write normally triggers it at once). */
const claiming = (plan: SyncPlan): boolean => (plan.firewall?.claimRules.length ?? 0) > 0 || plan.firewall?.claimNode !== undefined;

const FIREWALL_WRITES = new Set<string>(['AddRoutedIPFirewallPort', 'AddRoutedIPFirewallNode', 'DeleteRoutedIPFirewallPort', 'DeleteRoutedIPFirewallNode']);
