/**
 * The issuer controllers' reconcile: the status of a RoutedIPIssuer or ClusterRoutedIPIssuer.
 * `Ready` rests on one cheap read with the issuer's credentials (the named firewall, or else a lookup of addresses), cached
 * per issuer generation and credentials for `ISSUER_CHECK_SECONDS`, so status checks cost at
 * most one read per issuer per period — far inside every provider's rate budget. A spent budget
 * is not cached: the hook answers 429 and Metacontroller retries after `Retry-After`.
 */
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { IssuerDeadlineError, IssuerError, IssuerRateLimitError, toIssuerError } from '../issuers/errors.js';
import type { HookSession } from '../issuers/session.js';
import type { IssuerRegistry } from '../issuers/registry.js';
import type { Secret } from '../schemas/kubernetes.js';
import type { DeliveredIssuer, IssuerKind, OrphanRecord, RoutedIPIssuerStatus } from '../schemas/routed-ip.js';
import type { DeliveredRoutedIP } from '../schemas/delivered.js';
import { DEFAULT_ORPHAN_GRACE_SECONDS } from '../plan/orphans.js';
import { kindCounts, NO_ORPHANS, previousOrphans, sweepOrphans, type SweepListingCache, type SweepOutcome } from './orphans.js';
import { ISSUER_CHECK_SECONDS, secretsOf } from '../plan/issuer-status.js';
import { conditionList, isFalse, isTrue, isUnknown, type ConditionValue } from './conditions.js';
import { issuerSettings, isProblem } from './context.js';
import { DEFAULT_POLICY, policyProblem, providerUnavailable, type IssuerPolicy } from './policy.js';
import { readStatusHint } from './hints.js';
import { clip } from './status.js';

/** Condition types of an issuer, in reported order. */
export const ISSUER_CONDITION_TYPES = ['Ready', 'FirewallFound', 'OrphansFound'] as const;
type IssuerConditions = Record<(typeof ISSUER_CONDITION_TYPES)[number], ConditionValue>;
/** The conditions the credential check decides. */
type CheckConditions = Omit<IssuerConditions, 'OrphansFound'>;

/** What one credential check found. */
export interface IssuerCheck {
  readonly provider?: string;
  readonly conditions: CheckConditions;
  /** The cloud's rate budget is spent: answer 429 with this Retry-After. */
  readonly throttleSeconds?: number;
}

/** Check results by issuer generation and credentials; entries expire after `ttlSeconds`. */
export class IssuerCheckCache {
  private readonly entries = new Map<string, { at: number; check: IssuerCheck }>();
  constructor(
    private readonly ttlSeconds = ISSUER_CHECK_SECONDS,
    private readonly maxEntries = 10_000,
  ) {}
  get(key: string, now: Date): IssuerCheck | undefined {
    const hit = this.entries.get(key);
    return hit && now.getTime() - hit.at < this.ttlSeconds * 1000 ? hit.check : undefined;
  }
  set(key: string, check: IssuerCheck, now: Date): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { at: now.getTime(), check });
  }
}

/** Dependencies of the issuer controller. */
export interface IssuerStatusDeps {
  readonly registry: IssuerRegistry;
  readonly cache: IssuerCheckCache;
  readonly clock: () => Date;
  readonly logger: FastifyBaseLogger;
  /** What issuers may make the operator do: the credential check obeys it like /sync. @default DEFAULT_POLICY */
  readonly policy?: IssuerPolicy;
  /** The hook call's session (deadline, signal, the account's budget). */
  readonly session: HookSession;
  /** This cluster's identity (`CLUSTER_NAME`): the orphan sweep releases only addresses marked with it. */
  readonly cluster?: string;
  /** Listings of marked addresses and rules, per issuer. */
  readonly listings: SweepListingCache;
  /** Seconds an orphan stays recorded, unassociated, before the sweep releases it. @default DEFAULT_ORPHAN_GRACE_SECONDS */
  readonly orphanGraceSeconds?: number;
}

/** The cache key: issuer kind, identity and generation, and a digest of the credentials it names (never logged). */
export function cacheKey(issuer: DeliveredIssuer, secrets: ReadonlyMap<string, Secret>, kind: IssuerKind = 'RoutedIPIssuer'): string {
  const digest = createHash('sha256');
  for (const name of secretsOf(issuer.spec)) digest.update(`${name}\u0000${JSON.stringify(secrets.get(name)?.data ?? null)}\u0000${JSON.stringify(secrets.get(name)?.stringData ?? null)}\u0000`);
  return `${kind === 'RoutedIPIssuer' ? '' : `${kind}/`}${issuer.metadata.namespace}/${issuer.metadata.name}/${issuer.metadata.uid ?? ''}/${issuer.metadata.generation ?? 0}/${digest.digest('hex')}`;
}

const notChecked = (why: string): ConditionValue => isUnknown('NotChecked', why);

/**
 * Runs (or reuses) the credential check of `issuer`, a RoutedIPIssuer or (`kind`) a
 * ClusterRoutedIPIssuer, whose Secrets are those of the operator's namespace and which may use
 * the operator's ambient identity — exactly as /sync would use it. Never throws for cloud or
 * spec problems.
 */
export async function checkIssuer(issuer: DeliveredIssuer, secrets: ReadonlyMap<string, Secret>, deps: IssuerStatusDeps, kind: IssuerKind = 'RoutedIPIssuer'): Promise<IssuerCheck> {
  const namespace = kind === 'ClusterRoutedIPIssuer' ? (deps.policy ?? DEFAULT_POLICY).operatorNamespace : (issuer.metadata.namespace ?? 'default');
  const settings = issuerSettings(kind, namespace, issuer.metadata.name, issuer.spec);
  // The issuer is the parent here: its own invalid spec is InvalidSpec, as for a RoutedIP.
  if (isProblem(settings)) return { conditions: { Ready: isFalse(settings.reason === 'InvalidIssuerSpec' ? 'InvalidSpec' : settings.reason, settings.message), FirewallFound: notChecked('the spec is invalid') } };
  const provider = settings.provider;
  // The credential check is a cloud call like any other: an endpoint or ambient identity the
  // operator refuses is never used, here either.
  const refused = policyProblem(settings, deps.policy ?? DEFAULT_POLICY);
  if (refused) return { provider, conditions: { Ready: isFalse(refused.reason, refused.message), FirewallFound: notChecked('the operator refuses this issuer') } };
  const factory = deps.registry[settings.provider];
  if (!factory) return { provider, conditions: { Ready: isFalse('ProviderNotAvailable', providerUnavailable(provider)), FirewallFound: notChecked('no provider') } };
  const now = deps.clock();
  const key = cacheKey(issuer, secrets, kind);
  const cached = deps.cache.get(key, now);
  if (cached) return cached;

  let check: IssuerCheck;
  try {
    const cloud = await factory({ kind: settings.kind, namespace, name: settings.name, spec: settings.spec, secrets, logger: deps.logger, session: deps.session });
    const probe = { namespace, name: `issuer-check-${settings.name}`, uid: issuer.metadata.uid ?? `${namespace}/${settings.name}` };
    if (settings.firewallName !== undefined) {
      const found = await cloud.findRoutedIPFirewall(settings.firewallName, probe);
      check = {
        provider,
        conditions: {
          Ready: isTrue('CredentialsWork', `the ${provider} credentials can read the account`),
          FirewallFound: found
            ? isTrue('FirewallFound', `firewall ${settings.firewallName} exists (${found.id})`)
            : isFalse('FirewallNotFound', `no firewall named ${settings.firewallName}: RoutedIPs of this issuer are not assigned until it exists`),
        },
      };
    } else {
      await cloud.findRoutedIP({ owner: probe, nodes: [], foreignAddresses: [] });
      check = { provider, conditions: { Ready: isTrue('CredentialsWork', `the ${provider} credentials can read the account`), FirewallFound: isTrue('FirewallNotManaged', 'no routedIPFirewallName: no firewall is managed') } };
    }
  } catch (err) {
    const e: IssuerError = err instanceof IssuerError ? err : toIssuerError(err);
    // Neither a spent budget nor a call cut at its deadline says anything about the credentials:
    // not cached, so the next call checks again.
    if (e instanceof IssuerDeadlineError) return { provider, conditions: { Ready: isUnknown(e.reason, e.message), FirewallFound: notChecked('the check was cut at the deadline') } };
    if (e instanceof IssuerRateLimitError) return { provider, conditions: { Ready: isUnknown(e.reason, e.message), FirewallFound: notChecked('rate limited') }, throttleSeconds: e.retryAfterSeconds };
    check = { provider, conditions: { Ready: isFalse(e.reason, e.message), FirewallFound: notChecked('the credential check failed') } };
  }
  deps.cache.set(key, check, now);
  return check;
}

/**
 * The orphan sweep of `issuer` (see `reconcile/orphans.ts`), run only once its credential check
 * passed: an issuer that cannot be used is not swept, and what the last sweep recorded is kept.
 */
export async function sweepIssuer(
  issuer: DeliveredIssuer,
  secrets: ReadonlyMap<string, Secret>,
  routedIPs: readonly DeliveredRoutedIP[],
  check: IssuerCheck,
  deps: IssuerStatusDeps,
): Promise<SweepOutcome> {
  const previous = previousOrphans(issuer.status);
  const carried = { ...(previous.length > 0 ? { orphans: previous } : {}), count: kindCounts(previous), removed: NO_ORPHANS };
  const namespace = issuer.metadata.namespace ?? 'default';
  const settings = issuerSettings('RoutedIPIssuer', namespace, issuer.metadata.name, issuer.spec);
  const factory = isProblem(settings) ? undefined : deps.registry[settings.provider];
  if (isProblem(settings) || !factory || check.conditions.Ready.status !== 'True') return { ...carried, condition: notChecked('the issuer is not ready') };
  try {
    const cloud = await factory({ kind: settings.kind, namespace, name: settings.name, spec: settings.spec, secrets, logger: deps.logger, session: deps.session, ...(deps.cluster !== undefined ? { cluster: deps.cluster } : {}) });
    return await sweepOrphans(issuer, settings, cloud, routedIPs, {
      cache: deps.listings,
      key: cacheKey(issuer, secrets),
      clock: deps.clock,
      graceSeconds: deps.orphanGraceSeconds ?? DEFAULT_ORPHAN_GRACE_SECONDS,
      ...(deps.cluster !== undefined ? { cluster: deps.cluster } : {}),
      session: deps.session,
    });
  } catch (err) {
    const e: IssuerError = err instanceof IssuerError ? err : toIssuerError(err);
    return { ...carried, condition: isUnknown(e.reason, e.message) };
  }
}

/** The complete issuer status. */
export function issuerStatus(
  issuer: DeliveredIssuer,
  provider: string | undefined,
  users: number,
  conditions: IssuerConditions,
  now: Date,
  orphans?: readonly OrphanRecord[],
): RoutedIPIssuerStatus {
  const generation = issuer.metadata.generation ?? 0;
  return {
    observedGeneration: generation,
    ...(provider !== undefined ? { provider } : {}),
    routedIPs: users,
    ...(orphans !== undefined && orphans.length > 0 ? { orphans: [...orphans] } : {}),
    conditions: conditionList(ISSUER_CONDITION_TYPES, conditions, readStatusHint(issuer.status).conditions, now, generation).map((c) => ({ ...c, message: clip(c.message) })),
  };
}
