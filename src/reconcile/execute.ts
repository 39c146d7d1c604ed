/**
 * Runs planned steps in order against an issuer: each action at most once, stopping at the first
 * failure or pending action; every later action is reported `pending` (waiting). Reads were done
 * before planning, so this is the only place cloud writes happen. In dry-run no write is made.
 */
import type { FastifyBaseLogger } from 'fastify';
import { toIssuerError, type IssuerError } from '../issuers/errors.js';
import type { ActionResult, ObservedFirewall, ObservedRoutedIP, PendingAction, RoutedIPIssuer, RoutedIPOwner } from '../issuers/issuer.js';
import type { HookSession } from '../issuers/session.js';
import type { CreateIntent, StepStatus } from '../schemas/routed-ip.js';
import type { PlannedStep, StepAction, StepName } from '../plan/steps.js';

/** What execution needs besides the steps. */
export interface ExecutionInput {
  readonly issuer: RoutedIPIssuer;
  readonly owner: RoutedIPOwner;
  readonly ip?: ObservedRoutedIP;
  readonly firewall?: ObservedFirewall;
  /** `status.createIntent` of the last sync: what a create is allowed to aim at. */
  readonly createIntent?: CreateIntent;
  readonly dryRun: boolean;
  readonly logger: FastifyBaseLogger;
  /** The hook call's session: no step starts after its deadline; steps hold its locks. */
  readonly session: HookSession;
  /** Called after each cloud write with its outcome (metrics). */
  readonly onWrite?: (step: StepName, outcome: 'done' | 'pending' | 'failed') => void;
}

/** What happened. */
export interface ExecutionResult {
  readonly steps: StepStatus[];
  /** Action kinds that completed in the cloud. */
  readonly completed: ReadonlySet<StepAction['kind']>;
  /**
   * Action kinds that were sent, whatever the answer. A failed call may still have taken effect
   * (a lost response), so ownership of what it adds is recorded on the attempt: the next
   * observation keeps the claim only if the entry is really there.
   */
  readonly attempted: ReadonlySet<StepAction['kind']>;
  /** The IP after execution (a create sets it). */
  readonly ip?: ObservedRoutedIP;
  /** An asynchronous action still running. */
  readonly pendingAction?: PendingAction;
  /** The failure that stopped execution. */
  readonly error?: IssuerError;
  readonly failedStep?: StepName;
}

type Outcome = { readonly state: 'done' } | { readonly state: 'pending'; readonly action: PendingAction } | { readonly state: 'skipped'; readonly detail: string };

const fromAction = (r: ActionResult): Outcome => (r.done ? { state: 'done' } : { state: 'pending', action: r.action });

/** Executes `steps`. Never throws for cloud errors: they end up in `error`. */
export async function executeSteps(steps: readonly PlannedStep[], input: ExecutionInput): Promise<ExecutionResult> {
  const { issuer, owner } = input;
  const out: StepStatus[] = [];
  const completed = new Set<StepAction['kind']>();
  const attempted = new Set<StepAction['kind']>();
  let ip = input.ip;
  let halted: StepName | undefined;
  let pendingAction: PendingAction | undefined;
  let error: IssuerError | undefined;

  const perform = async (action: StepAction): Promise<Outcome> => {
    const fw = input.firewall;
    switch (action.kind) {
      case 'addPorts':
        await issuer.addRoutedIPFirewallPort(fw!, action.rules, owner);
        return { state: 'done' };
      case 'deletePorts':
        await issuer.deleteRoutedIPFirewallPort(fw!, action.rules, owner);
        return { state: 'done' };
      case 'addNode':
        await issuer.addRoutedIPFirewallNode(fw!, action.node);
        return { state: 'done' };
      case 'deleteNodes':
        for (const id of action.ids) await issuer.deleteRoutedIPFirewallNode(fw!, id);
        return { state: 'done' };
      case 'create':
        ip = await issuer.createRoutedIP(owner, action.node, input.createIntent);
        return ip.pendingAction ? { state: 'pending', action: ip.pendingAction } : { state: 'done' };
      case 'assign':
        if (!ip) throw new Error('assign without an address');
        if (ip.pendingAction) return { state: 'pending', action: ip.pendingAction };
        if (ip.holder === action.node.id) return { state: 'skipped', detail: `already on ${action.node.node}` };
        return fromAction(await issuer.assignRoutedIP(ip, action.node));
      case 'delete': {
        if (!ip) return { state: 'skipped', detail: 'no address' };
        if (action.unassign) {
          const r = await issuer.unassignRoutedIP(ip);
          if (!r.done) return fromAction(r);
        }
        return action.release ? fromAction(await issuer.releaseRoutedIP(ip)) : { state: 'done' };
      }
    }
  };

  for (const step of steps) {
    if (halted !== undefined && (step.action !== undefined || step.outcome === 'pending')) {
      out.push({ name: step.name, outcome: 'pending', detail: `waiting for ${halted}` });
      continue;
    }
    if (step.action === undefined) {
      out.push({ name: step.name, outcome: step.outcome, detail: step.detail });
      if (step.outcome === 'failed' || step.outcome === 'pending') halted ??= step.name;
      continue;
    }
    if (input.dryRun) {
      out.push({ name: step.name, outcome: 'pending', detail: `dryRun: would ${step.detail}` });
      halted ??= step.name;
      continue;
    }
    try {
      input.session.beforeWrite(step.name);
      attempted.add(step.action.kind);
      const action = step.action;
      const outcome = await input.session.serialize(lockKeys(action, input), step.name, () => perform(action));
      if (outcome.state === 'skipped') {
        out.push({ name: step.name, outcome: 'skipped', detail: outcome.detail });
        continue;
      }
      completed.add(step.action.kind);
      if (outcome.state === 'pending') {
        pendingAction = outcome.action;
        out.push({ name: step.name, outcome: 'pending', detail: `${step.detail}: action ${outcome.action.id} in progress` });
        halted = step.name;
        input.onWrite?.(step.name, 'pending');
      } else {
        out.push({ name: step.name, outcome: 'done', detail: step.detail });
        input.onWrite?.(step.name, 'done');
      }
    } catch (err) {
      error = toIssuerError(err);
      input.logger.warn({ step: step.name, reason: error.reason, err: { name: error.name, message: error.message } }, 'step failed');
      out.push({ name: step.name, outcome: 'failed', detail: `${error.reason}: ${error.message}` });
      halted = step.name;
      input.onWrite?.(step.name, 'failed');
    }
  }
  return {
    steps: out,
    completed,
    attempted,
    ...(ip ? { ip } : {}),
    ...(pendingAction ? { pendingAction } : {}),
    ...(error ? { error, failedStep: halted } : {}),
  };
}

/**
 * The in-process locks a write holds (scoped to the account): the firewall whose rules change,
 * and each machine whose attachments are read, then rewritten (an EC2 interface's group set and
 * private addresses; a droplet's one reserved IP). A create also holds the account's address
 * list, which it reads to decide that creating is safe.
 */
function lockKeys(action: StepAction, input: ExecutionInput): string[] {
  const key = (resource: string) => input.session.accountKey(resource);
  const fw = input.firewall ? [key(`firewall/${input.firewall.id}`)] : [];
  const holder = input.ip?.holder !== undefined ? [key(`node/${input.ip.holder}`)] : [];
  switch (action.kind) {
    case 'addPorts':
    case 'deletePorts':
      return fw;
    case 'addNode':
      return [key(`node/${action.node.id}`)];
    case 'deleteNodes':
      return action.ids.map((id) => key(`node/${id}`));
    case 'create':
      return [key('addresses'), key(`node/${action.node.id}`)];
    case 'assign':
      return [key(`node/${action.node.id}`), ...holder];
    case 'delete':
      return holder;
  }
}
