/**
 * What every AWS operation shares: the EC2 seam, one wrapper that maps errors and keeps the
 * throttle budget, and the names the issuer marks its cloud resources with.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { IssuerBusyError, IssuerRateLimitError } from '../errors.js';
import type { Ec2Api } from './client.js';
import { hasCode, mapAwsError, THROTTLE_BASE_SECONDS } from './errors.js';
import type { HookSession } from '../session.js';
import type { ThrottleBudget } from './throttle.js';

/** Tag on an Elastic IP naming its RoutedIP (`namespace/name`), for people. */
export const OWNER_TAG = 'routedip.io/owner';
/** Tag on an Elastic IP carrying its RoutedIP's UID: the only key `findRoutedIP` trusts. */
export const UID_TAG = 'routedip.io/uid';
/** Tag on an Elastic IP naming the cluster (`CLUSTER_NAME`) whose operator allocated it: the orphan sweep's scope. */
export const CLUSTER_TAG = 'routedip.io/cluster';

/** `spec.aws.privateIPs`: which private IPs of the primary interface an Elastic IP may use. */
export type PrivateIPPolicy = 'PrimaryOnly' | 'DedicatedSecondaries';

/** Shared state of one issuer instance. */
export interface AwsContext {
  readonly api: Ec2Api;
  readonly region: string;
  /** `spec.aws.privateIPs` (default PrimaryOnly). */
  readonly privateIPs: PrivateIPPolicy;
  readonly logger: FastifyBaseLogger;
  /** This cluster's identity, tagged on every address allocated (absent: no cluster tag). */
  readonly cluster?: string;
  /** Waits before re-trying a call that hit eventual consistency (tests pass zeros). */
  readonly consistencyDelaysMs: readonly number[];
  /** The hook call's session (deadline, signal, locks). */
  readonly session: HookSession;
  /**
   * Runs one EC2 call: refuses while the account is throttled, maps every error, and records
   * throttles and successes in the budget.
   */
  call<T>(action: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * Builds the `call` wrapper over a budget entry named `budgetKey` (a hash, never a secret). No
 * call starts once the session's deadline passed, no write (anything but Describe*) after it,
 * and a call the session's signal cut short is reported as the deadline.
 */
export function makeCall(budget: ThrottleBudget, budgetKey: string, logger: FastifyBaseLogger, session: HookSession) {
  return async <T>(action: string, fn: () => Promise<T>): Promise<T> => {
    const wait = budget.remainingSeconds(budgetKey);
    if (wait > 0) throw new IssuerRateLimitError(`EC2 ${action} not sent: the account is throttled (RequestLimitExceeded)`, wait);
    if (session.signal.aborted) throw session.deadlineError(`EC2 ${action}`);
    if (!action.startsWith('Describe')) session.beforeWrite(`EC2 ${action}`);
    try {
      const result = await fn();
      budget.succeeded(budgetKey);
      return result;
    } catch (err) {
      if (session.signal.aborted) throw session.deadlineError(`EC2 ${action} completed`);
      const seconds = hasCode(err, 'RequestLimitExceeded', 'Throttling', 'ThrottlingException') ? budget.throttled(budgetKey) : THROTTLE_BASE_SECONDS;
      const mapped = mapAwsError(err, action, seconds);
      logger.debug({ action, reason: mapped.reason }, 'EC2 call failed');
      throw mapped;
    }
  };
}

/**
 * Runs `fn` and re-runs it after each of `delaysMs` while it fails with one of `codes` (a
 * resource created moments ago and not visible yet). Still failing: `IssuerBusyError`, so the
 * sync backs off briefly instead of reporting a permanent failure.
 */
export async function retryWhileInvisible<T>(ctx: AwsContext, what: string, codes: readonly string[], fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const invisible = hasCode(err, ...codes);
      if (!invisible) throw err;
      const delay = ctx.consistencyDelaysMs[attempt];
      if (delay === undefined) throw new IssuerBusyError(`${what} is not visible to EC2 yet (eventual consistency); retrying`, 'NotYetVisible', { cause: err });
      if (delay > 0) await sleep(delay, undefined, { signal: ctx.session.signal }).catch(() => Promise.reject(ctx.session.deadlineError(what)));
    }
  }
}
