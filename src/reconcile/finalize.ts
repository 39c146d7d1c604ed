/**
 * One `/finalize` (DeleteRoutedIP). `Retain` leaves the cloud as it is and lets the RoutedIP go.
 * `Delete` unassigns and releases a created IP (an adopted one is only unassigned) and removes
 * what this RoutedIP added to the firewall; `finalized` is true only once a fresh observation
 * finds nothing left. A dry run reports what it would do and lets the RoutedIP go.
 */
import type { RoutedIPIssuer } from '../issuers/issuer.js';
import type { FirewallStatus } from '../schemas/routed-ip.js';
import { planFinalize, type FinalizePlan } from '../plan/finalize-plan.js';
import { FINALIZE_STEPS } from '../plan/steps.js';
import { isFalse, isTrue, isUnknown } from './conditions.js';
import type { IssuerSettings, SyncContext } from './context.js';
import { executeSteps } from './execute.js';
import { executionInput, judge, observe, siblingNeeds, type Observation } from './observe.js';
import { carriedForward, finishOutcome, issuerReady, type Outcome, type RunDeps } from './outcome.js';
import { assembleStatus } from './status.js';
import { PENDING_POLL_SECONDS } from './sync.js';

/** Seconds before checking again that deletions took effect. */
export const FINALIZE_RECHECK_SECONDS = 2;

const plan = (ctx: SyncContext, settings: IssuerSettings, seen: Observation, now: Date): FinalizePlan => {
  const needs = siblingNeeds(ctx, seen.firewall?.id);
  return planFinalize({
    ...(seen.ip ? { ip: seen.ip } : {}),
    adopted: ctx.adopts,
    ...(settings.firewallName !== undefined ? { firewallName: settings.firewallName } : {}),
    ...(seen.firewall ? { firewall: seen.firewall } : {}),
    sources: settings.sources,
    ...(ctx.previous.firewall ? { previousFirewall: ctx.previous.firewall } : {}),
    siblingPorts: needs.siblingPorts,
    siblingNodes: needs.siblingNodes,
    siblingAdded: needs.siblingAdded,
    siblingAddedNodes: needs.siblingAddedNodes,
    ...(ctx.previous.createIntent ? { createIntent: { recorded: ctx.previous.createIntent, now: now.getTime() } } : {}),
  });
};

/**
 * The ownership record while finalizing: kept whole, because a finalize that has to wait (an
 * unassign in progress) must still know on the next call what this RoutedIP added — entries
 * already removed drop out when that call observes them gone. What it needs is nothing any
 * more, so siblings sharing the firewall may take over or remove what it leaves.
 */
const leaving = (firewall: FirewallStatus): FirewallStatus => ({ ...firewall, ports: [], nodes: [] });

/** Runs one finalize for a RoutedIP whose issuer is usable. */
export async function runFinalize(ctx: SyncContext, settings: IssuerSettings, issuer: RoutedIPIssuer, deps: RunDeps): Promise<Outcome> {
  const now = deps.clock();
  const base = { generation: ctx.generation, now, previous: ctx.previous, provider: settings.provider };
  const ready = issuerReady(settings, undefined);
  if (settings.reclaimPolicy === 'Retain') {
    const steps = FINALIZE_STEPS.map((name) => ({ name, outcome: 'skipped' as const, detail: 'routedIPReclaimPolicy Retain: cloud resources left as they are' }));
    const kept = isTrue('Retained', 'routedIPReclaimPolicy is Retain: the address and firewall entries are left in the cloud');
    const status = assembleStatus({
      ...base,
      ...(ctx.previous.address !== undefined ? { address: ctx.previous.address } : {}),
      steps,
      conditions: { IPAllocated: kept, Assigned: isUnknown('Finalizing', 'the RoutedIP is being deleted'), FirewallReady: kept, IssuerReady: ready },
      notReady: isFalse('Finalizing', 'the RoutedIP is being deleted; cloud resources are retained'),
    });
    return { status, finalized: true };
  }

  const nodes = judge(ctx, settings, issuer);
  const seen = await observe(ctx, settings, issuer, nodes);
  if (seen.error) return { ...carriedForward(ctx, settings, FINALIZE_STEPS, seen.failedStep ?? 'FindRoutedIP', seen.error, now), finalized: false };
  const first = plan(ctx, settings, seen, now);
  const run = await executeSteps(first.steps, executionInput(ctx, settings, issuer, seen, deps));

  // An action still running, started now or observed: report it and poll, nothing to re-read yet.
  const waiting = run.pendingAction ?? seen.ip?.pendingAction;
  // Observe again: `finalized` must rest on what the cloud shows, not on what we asked of it.
  let clean = first.clean || settings.dryRun;
  let left = seen;
  let last = first;
  if (!first.clean && !settings.dryRun && !run.error && !waiting) {
    left = await observe(ctx, settings, issuer, nodes);
    last = plan(ctx, settings, left, now);
    clean = !left.error && last.clean;
  }
  // Only a sibling's takeover is awaited: its sync (which our status change triggers) ends the wait.
  const handingOver = last.handover.rules.length > 0 || last.handover.nodes.length > 0;
  const status = assembleStatus({
    ...base,
    ...(left.ip ? { address: left.ip.address } : {}),
    ...(waiting ? { pendingAction: waiting } : {}),
    // Kept until an address is found or the intent expired: the evidence a late create is ours.
    ...(ctx.previous.createIntent && !left.ip && !clean ? { createIntent: ctx.previous.createIntent } : {}),
    ...(ctx.previous.firewall ? { firewall: leaving(ctx.previous.firewall) } : {}),
    steps: run.steps,
    conditions: {
      IPAllocated: left.ip ? isTrue('Allocated', `address ${left.ip.address} still exists`) : isFalse('Released', 'no address is held'),
      Assigned: isUnknown('Finalizing', 'the RoutedIP is being deleted'),
      FirewallReady: clean ? isTrue('FirewallCleaned', 'nothing this RoutedIP added is left') : isFalse('FirewallCleaning', 'removing what this RoutedIP added'),
      IssuerReady: issuerReady(settings, run.error ?? left.error),
    },
    notReady: run.error ? isFalse(run.error.reason, run.error.message) : isFalse('Finalizing', clean ? 'cloud resources cleaned up' : 'cleaning up cloud resources'),
  });
  const outcome = finishOutcome(status, run.error ?? left.error, now, () => (clean ? undefined : waiting || handingOver ? PENDING_POLL_SECONDS : FINALIZE_RECHECK_SECONDS));
  return { ...outcome, finalized: clean };
}
