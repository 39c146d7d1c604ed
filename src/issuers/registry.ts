/**
 * The explicit map from provider name to issuer factory (no registration by import side effect).
 *
 * `buildApp` receives a registry, so tests build one around fakes and the server builds the real
 * one. A factory turns a RoutedIPIssuer and the Secrets delivered with the hook call into a
 * ready issuer, or throws an `IssuerError` (bad credentials, missing Secret) that the reconcile
 * layer reports as `IssuerReady=False`.
 *
 * Each cloud's code (its folder and its SDK: the AWS SDK, dots-wrapper and axios, the Hetzner
 * client) is imported when the first issuer of that cloud is built, not at start-up. A process
 * that serves one cloud never holds the others' modules, and the heap every garbage collection
 * marks stays small: the SDKs made about half of what a 5,000-Node /sync cost beyond parsing its
 * JSON (docs/performance.md). Only types are imported statically from the cloud folders below.
 */
import { IssuerUnavailableError } from './errors.js';
import type { IssuerBuilder, IssuerContext, IssuerFactory, ProviderName, RoutedIPIssuer } from './issuer.js';
import { MemoryCloud } from './memory/cloud.js';
import { createMemoryIssuer } from './memory/issuer.js';
import type { DigitalOceanFactoryOptions } from './digitalocean/index.js';
import type { AwsFactoryOptions } from './aws/index.js';
import type { HetznerFactoryOptions } from './hetzner/index.js';

export type { IssuerContext, IssuerFactory } from './issuer.js';

/** Provider name → factory. A provider absent from the map is reported as not available. */
export type IssuerRegistry = Readonly<Partial<Record<ProviderName, IssuerFactory>>>;

/** A cloud provider whose code the registry loads on first use. */
export type CloudProviderName = Exclude<ProviderName, 'memory'>;

/** The options of each cloud's factory. */
interface CloudOptions {
  readonly digitalocean: DigitalOceanFactoryOptions;
  readonly aws: AwsFactoryOptions;
  readonly hetzner: HetznerFactoryOptions;
}

/** Loads a cloud's factory maker (the `create…IssuerFactory` of its `index.ts`, which imports its SDK). */
export type CloudLoader<P extends CloudProviderName> = () => Promise<(options: CloudOptions[P]) => IssuerBuilder>;

/** A loader per cloud. */
export type CloudLoaders = { readonly [P in CloudProviderName]: CloudLoader<P> };

/** The production loaders: one dynamic import per cloud folder (kept in dist/ by `npm run build`). */
const CLOUD_LOADERS: CloudLoaders = {
  digitalocean: async () => (await import('./digitalocean/index.js')).createDigitalOceanIssuerFactory,
  aws: async () => (await import('./aws/index.js')).createAwsIssuerFactory,
  hetzner: async () => (await import('./hetzner/index.js')).createHetznerIssuerFactory,
};

/** Options of the default registry; each cloud's options are for tests and tuning. */
export interface RegistryOptions {
  /** The simulated cloud the `memory` provider uses; one per process by default. */
  readonly memoryCloud?: MemoryCloud;
  /** Serve the `memory` provider (MEMORY_PROVIDER; the shipped Deployment switches it off). @default true */
  readonly memoryProvider?: boolean;
  readonly digitalocean?: DigitalOceanFactoryOptions;
  readonly aws?: AwsFactoryOptions;
  readonly hetzner?: HetznerFactoryOptions;
  /**
   * Replaces how a cloud's code is loaded (tests: count the loads, or make one fail). Each
   * replacement gets the same options the production loader's maker would.
   */
  readonly loaders?: Partial<CloudLoaders>;
}

/**
 * A factory that loads `provider`'s code at its first call and builds that cloud's factory once,
 * with `options`: later calls, concurrent ones included, share the loaded module and the factory
 * (its cached clients and budgets). A failed load is the issuer's error (`ProviderLoadFailed`,
 * retried with backoff: a status condition, never a 5xx), and the next call tries again.
 */
function lazyCloudFactory<P extends CloudProviderName>(provider: P, load: CloudLoader<P>, options: CloudOptions[P]): IssuerFactory {
  let factory: Promise<IssuerBuilder> | undefined;
  const loaded = (): Promise<IssuerBuilder> =>
    (factory ??= load().then(
      (make) => make(options),
      (err: unknown) => {
        factory = undefined;
        const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
        throw new IssuerUnavailableError(`the ${provider} provider's code could not be loaded (${why}): the operator's image is incomplete or broken`, 'ProviderLoadFailed', { cause: err });
      },
    ));
  return async (context: IssuerContext): Promise<RoutedIPIssuer> => (await loaded())(context);
}

/** The registry with every provider this build ships; each cloud's code loads on first use. */
export function createIssuerRegistry(options: RegistryOptions = {}): IssuerRegistry {
  const memoryCloud = options.memoryProvider === false ? undefined : (options.memoryCloud ?? new MemoryCloud());
  const cloud = <P extends CloudProviderName>(provider: P): IssuerFactory =>
    lazyCloudFactory(provider, (options.loaders?.[provider] ?? CLOUD_LOADERS[provider]) as CloudLoader<P>, options[provider] ?? {});
  return {
    ...(memoryCloud ? { memory: (context: IssuerContext) => createMemoryIssuer(memoryCloud, context) } : {}),
    digitalocean: cloud('digitalocean'),
    aws: cloud('aws'),
    hetzner: cloud('hetzner'),
  };
}
