/**
 * The Hetzner Cloud issuer factory: reads the token from the Secret named by
 * `spec.hetzner.tokenSecretRef` (key `token` by default), builds the client and the issuer.
 *
 * The rate budget is the account's lasting state in the session module, keyed by a SHA-256
 * prefix of the token (the token itself is never a key, logged or put in a message): Hetzner
 * counts 3,600 requests per hour per project, refilled by one per second, and every hook call
 * made with the token shares what the `RateLimit-*` headers said. The session also carries the
 * hook's deadline (its signal aborts every request) and the per-Firewall lock that the reconcile
 * layer holds around each rule rewrite (`set_rules` replaces every rule).
 */
import { createHash } from 'node:crypto';
import { IssuerInvalidError } from '../errors.js';
import { RateBudget } from '../rate-budget.js';
import type { IssuerBuilder } from '../issuer.js';
import { readSecretKey } from '../secrets.js';
import { createHetznerClient, HETZNER_ENDPOINT } from './client.js';
import { HetznerIssuer } from './issuer.js';

export { HetznerIssuer } from './issuer.js';
export type { HetznerClient } from './client.js';

/** Options of the hetzner issuer factory (tests and tuning). */
export interface HetznerFactoryOptions {
  /**
   * Per-request timeout. Default 5000. A sync is several requests: the hook's deadline (the
   * session's signal) bounds the whole call on top of it.
   */
  readonly requestTimeoutMs?: number;
  /** Calls stop once `RateLimit-Remaining` is at or below this. Default 20 (of 3,600 an hour). */
  readonly rateLimitReserve?: number;
  /** Clock in milliseconds for the rate budget (tests). Default `Date.now`. */
  readonly now?: () => number;
}

/** The production per-request timeout (tests use it too: no test may be safer than production). */
export const HETZNER_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_RESERVE = 20;

/** A rate budget with Hetzner's rules: one per token, refilled by one request per second. */
export const hetznerRateBudget = (now: () => number, reserve = DEFAULT_RESERVE): RateBudget =>
  new RateBudget({ reserve, now, cloud: 'Hetzner Cloud', refillPerSecond: 1 });

/** A short, non-reversible key for a token. */
const tokenKey = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

/** Builds the hetzner issuer factory. */
export function createHetznerIssuerFactory(options: HetznerFactoryOptions = {}): IssuerBuilder {
  const now = options.now ?? Date.now;
  return (context) => {
    const spec = context.spec.hetzner;
    if (!spec) throw new IssuerInvalidError(`RoutedIPIssuer ${context.namespace}/${context.name} has no hetzner block`, 'InvalidIssuerSpec');
    const ref = spec.tokenSecretRef;
    const token = readSecretKey(context.secrets, context.namespace, ref.name, ref.key ?? 'token');
    // One budget per token for the whole process, kept by the session module.
    const budget = context.session.openAccount(`hetzner:${tokenKey(token)}`, () => hetznerRateBudget(now, options.rateLimitReserve));
    const client = createHetznerClient({
      token,
      requestTimeoutMs: options.requestTimeoutMs ?? HETZNER_REQUEST_TIMEOUT_MS,
      budget,
      session: context.session,
      ...(spec.endpoint !== undefined && spec.endpoint !== '' ? { endpoint: spec.endpoint } : {}),
    });
    const logger = context.logger.child({ issuer: `${context.namespace}/${context.name}`, provider: 'hetzner' });
    return new HetznerIssuer(client, {
      location: spec.location,
      objectScope: `hetzner ${spec.endpoint !== undefined && spec.endpoint !== '' ? spec.endpoint : HETZNER_ENDPOINT}`,
      ...(context.cluster !== undefined ? { cluster: context.cluster } : {}),
      session: context.session,
      onActionError: (a) => logger.warn({ action: a.id, command: a.command, code: a.error?.code }, 'Hetzner Cloud action failed; the step will be retried'),
    });
  };
}
