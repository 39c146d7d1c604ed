/**
 * The explicit map from provider name to issuer factory (no registration by import side effect).
 *
 * `buildApp` receives a registry, so tests build one around fakes and the server builds the real
 * one. A factory turns a RoutedIPIssuer and the Secrets delivered with the hook call into a
 * ready issuer, or throws an `IssuerError` (bad credentials, missing Secret) that the reconcile
 * layer reports as `IssuerReady=False`.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Secret } from '../schemas/kubernetes.js';
import type { IssuerKind, RoutedIPIssuerSpec } from '../schemas/routed-ip.js';
import type { ProviderName, RoutedIPIssuer } from './issuer.js';
import { MemoryCloud } from './memory/cloud.js';
import { createMemoryIssuer } from './memory/issuer.js';
import { createDigitalOceanIssuerFactory, type DigitalOceanFactoryOptions } from './digitalocean/index.js';
import { createAwsIssuerFactory, type AwsFactoryOptions } from './aws/index.js';
import { createHetznerIssuerFactory, type HetznerFactoryOptions } from './hetzner/index.js';

/** What a factory gets: the issuer object and the Secrets of its namespace that were delivered. */
export interface IssuerContext {
  /** @default 'RoutedIPIssuer' */
  readonly kind?: IssuerKind;
  /** The issuer's namespace; for a ClusterRoutedIPIssuer, the operator's (where its Secrets are). */
  readonly namespace: string;
  readonly name: string;
  readonly spec: RoutedIPIssuerSpec;
  /** Secrets delivered with the call (labelled `routedip.io/issuer`), keyed by name, same namespace. */
  readonly secrets: ReadonlyMap<string, Secret>;
  readonly logger: FastifyBaseLogger;
}

/** Builds an issuer for one hook call. Throws `IssuerError` when it cannot. */
export type IssuerFactory = (context: IssuerContext) => RoutedIPIssuer;

/** Provider name → factory. A provider absent from the map is reported as not available. */
export type IssuerRegistry = Readonly<Partial<Record<ProviderName, IssuerFactory>>>;

/** Options of the default registry; each cloud's options are for tests and tuning. */
export interface RegistryOptions {
  /** The simulated cloud the `memory` provider uses; one per process by default. */
  readonly memoryCloud?: MemoryCloud;
  /** Serve the `memory` provider (MEMORY_PROVIDER; the shipped Deployment switches it off). @default true */
  readonly memoryProvider?: boolean;
  readonly digitalocean?: DigitalOceanFactoryOptions;
  readonly aws?: AwsFactoryOptions;
  readonly hetzner?: HetznerFactoryOptions;
}

/** The registry with every provider this build ships. */
export function createIssuerRegistry(options: RegistryOptions = {}): IssuerRegistry {
  const memoryCloud = options.memoryProvider === false ? undefined : (options.memoryCloud ?? new MemoryCloud());
  return {
    ...(memoryCloud ? { memory: (context: IssuerContext) => createMemoryIssuer(memoryCloud, context) } : {}),
    digitalocean: createDigitalOceanIssuerFactory(options.digitalocean),
    aws: createAwsIssuerFactory(options.aws),
    hetzner: createHetznerIssuerFactory(options.hetzner),
  };
}
