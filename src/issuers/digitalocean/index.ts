/**
 * The DigitalOcean issuer factory: reads the token from the Secret named by
 * `spec.digitalocean.tokenSecretRef` (key `token` by default), builds the client and the issuer.
 *
 * The rate budget is the account's lasting state in the session module, keyed by a SHA-256
 * prefix of the token (the token itself is never stored as a key, logged or put in a message),
 * so every hook call made with the same token shares what DigitalOcean said about the remaining
 * budget.
 */
import { createHash } from 'node:crypto';
import { IssuerInvalidError } from '../errors.js';
import type { IssuerBuilder } from '../issuer.js';
import { readSecretKey } from '../secrets.js';
import { createDigitalOceanClient } from './client.js';
import { DigitalOceanIssuer } from './issuer.js';
import { RateBudget } from '../rate-budget.js';

export { DigitalOceanIssuer } from './issuer.js';
export type { DigitalOceanClient } from './client.js';

/** Options of the digitalocean issuer factory (tests and tuning). */
export interface DigitalOceanFactoryOptions {
  /**
   * Per-request timeout. Default 5000. A sync is several requests: the hook's deadline (the
   * session's signal) bounds the whole call on top of it.
   */
  readonly requestTimeoutInMs?: number;
  /**
   * Calls stop once `ratelimit-remaining` is at or below this. Default 10. That header counts the
   * hourly limit (5,000 per token, each request counted for one hour; `ratelimit-reset` is when the
   * oldest counted request expires); the per-minute burst limit (250) has no header of its own
   * and shows only as a 429 with `retry-after`, which the budget honours.
   */
  readonly rateLimitReserve?: number;
  /** Clock in milliseconds for the rate budget (tests). Default `Date.now`. */
  readonly now?: () => number;
}

/** Per-request timeout of the production configuration, ms. */
export const DEFAULT_TIMEOUT_MS = 5_000;
/** `ratelimit-remaining` at which calls stop, of the production configuration. */
export const DEFAULT_RESERVE = 10;

/** A short, non-reversible key for a token. */
const tokenKey = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

/** Builds the digitalocean issuer factory. */
export function createDigitalOceanIssuerFactory(options: DigitalOceanFactoryOptions = {}): IssuerBuilder {
  const now = options.now ?? Date.now;
  return (context) => {
    const spec = context.spec.digitalocean;
    if (!spec) throw new IssuerInvalidError(`RoutedIPIssuer ${context.namespace}/${context.name} has no digitalocean block`, 'InvalidIssuerSpec');
    const ref = spec.tokenSecretRef;
    const token = readSecretKey(context.secrets, context.namespace, ref.name, ref.key ?? 'token');
    // One budget per token for the whole process, kept by the session module.
    const budget = context.session.openAccount(`digitalocean:${tokenKey(token)}`, () => new RateBudget({ reserve: options.rateLimitReserve ?? DEFAULT_RESERVE, now }));
    const client = createDigitalOceanClient({
      token,
      requestTimeoutInMs: options.requestTimeoutInMs ?? DEFAULT_TIMEOUT_MS,
      budget,
      session: context.session,
      ...(spec.endpoint !== undefined && spec.endpoint !== '' ? { endpoint: spec.endpoint.replace(/\/+$/, '') } : {}),
    });
    return new DigitalOceanIssuer(client, spec.region, spec.firewallTag);
  };
}
