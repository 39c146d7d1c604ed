/**
 * The `aws` issuer factory: credentials from the RoutedIPIssuer's Secret (or the SDK's default
 * chain when `credentialsSecretRef` is absent), one cached EC2 client per account and endpoint,
 * and the account's throttle budget and read cache from the session module.
 */
import { createHash } from 'node:crypto';
import { IssuerInvalidError } from '../errors.js';
import type { IssuerBuilder, IssuerContext } from '../issuer.js';
import { readOptionalSecretKey, readSecretKey } from '../secrets.js';
import { buildEc2Clients, ec2Api, type Ec2Api, type Ec2Clients, type Ec2Credentials } from './client.js';
import { cachedEc2Api } from './cached-api.js';
import { makeCall, type AwsContext } from './context.js';
import { createAwsIssuer } from './issuer.js';
import { createThrottleBudget, type ThrottleBudget } from './throttle.js';

/** Options of the aws issuer factory (tests and tuning). */
export interface AwsFactoryOptions {
  /** Per-request timeout in ms; default 3000. The hook's deadline bounds the whole call on top of it. */
  readonly requestTimeoutMs?: number;
  /** Waits before re-trying a call on a just-created resource; default [250, 750]. */
  readonly consistencyDelaysMs?: readonly number[];
  /** Clock of the throttle budget (ms since epoch). */
  readonly now?: () => number;
  /** Replaces the SDK seam (a test wrapping the real client, e.g. to count calls). */
  readonly wrapApi?: (api: Ec2Api) => Ec2Api;
}

const MAX_CACHED_CLIENTS = 32;

/** Reads static credentials when the spec names a Secret. Values never enter a message. */
function credentialsOf(context: IssuerContext): Ec2Credentials | undefined {
  const ref = context.spec.aws?.credentialsSecretRef;
  if (!ref) return undefined;
  const read = (key: string) => readSecretKey(context.secrets, context.namespace, ref.name, key);
  const sessionToken = readOptionalSecretKey(context.secrets, context.namespace, ref.name, 'sessionToken');
  return { accessKeyId: read('accessKeyId'), secretAccessKey: read('secretAccessKey'), ...(sessionToken ? { sessionToken } : {}) };
}

/** A key naming the account and endpoint: a hash, so no secret is kept in clear as a key. */
const accountKey = (region: string, endpoint: string | undefined, creds: Ec2Credentials | undefined): string =>
  createHash('sha256').update(JSON.stringify([region, endpoint ?? '', creds?.accessKeyId ?? '', creds?.secretAccessKey ?? '', creds?.sessionToken ?? ''])).digest('hex');

/** Builds the aws issuer factory; clients and the throttle budget live as long as the factory. */
export function createAwsIssuerFactory(options: AwsFactoryOptions = {}): IssuerBuilder {
  const clients = new Map<string, Ec2Clients>();
  return (context) => {
    const spec = context.spec.aws;
    if (!spec) throw new IssuerInvalidError(`RoutedIPIssuer ${context.namespace}/${context.name} has no aws block`, 'InvalidIssuerSpec');
    const credentials = credentialsOf(context);
    const key = accountKey(spec.region, spec.endpoint, credentials);
    let client = clients.get(key);
    if (!client) {
      client = buildEc2Clients({
        region: spec.region,
        ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
        requestTimeoutMs: options.requestTimeoutMs ?? 3000,
      });
      clients.set(key, client);
      if (clients.size > MAX_CACHED_CLIENTS) {
        const oldest = clients.keys().next().value as string;
        const evicted = clients.get(oldest);
        evicted?.retrying.destroy();
        evicted?.once.destroy();
        clients.delete(oldest);
      }
    }
    // The throttle budget is the account's lasting state in the session module.
    const budget: ThrottleBudget = context.session.openAccount(`aws:${key}`, () => createThrottleBudget(options.now));
    const sent = options.wrapApi ? options.wrapApi(ec2Api(client, context.session.signal)) : ec2Api(client, context.session.signal);
    // The account's read cache sits in front of what is sent (a test's wrapper counts real calls).
    const api = cachedEc2Api(sent, context.session);
    const logger = context.logger.child({ issuer: `${context.namespace}/${context.name}`, provider: 'aws' });
    const ctx: AwsContext = {
      api,
      region: spec.region,
      privateIPs: spec.privateIPs ?? 'PrimaryOnly',
      logger,
      ...(context.cluster !== undefined ? { cluster: context.cluster } : {}),
      consistencyDelaysMs: options.consistencyDelaysMs ?? [250, 750],
      session: context.session,
      call: makeCall(budget, key, logger, context.session),
    };
    // Allocation and group ids are unique within a region of an endpoint, whatever credentials list them.
    return { ...createAwsIssuer(ctx), objectScope: `aws ${spec.region} ${spec.endpoint ?? ''}` };
  };
}
