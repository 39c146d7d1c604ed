/** PLACEHOLDER until the digitalocean issuer lands: every call reports the provider as not available. */
import { IssuerInvalidError } from '../errors.js';
import type { IssuerFactory } from '../registry.js';

/** Options of the digitalocean issuer factory. */
export type DigitalOceanFactoryOptions = Record<string, never>;

/** Builds the digitalocean issuer factory. */
export function createDigitalOceanIssuerFactory(_options?: DigitalOceanFactoryOptions): IssuerFactory {
  return () => {
    throw new IssuerInvalidError('the digitalocean provider is not available in this build', 'ProviderNotAvailable');
  };
}
