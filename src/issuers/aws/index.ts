/** PLACEHOLDER until the aws issuer lands: every call reports the provider as not available. */
import { IssuerInvalidError } from '../errors.js';
import type { IssuerFactory } from '../registry.js';

/** Options of the aws issuer factory. */
export type AwsFactoryOptions = Record<string, never>;

/** Builds the aws issuer factory. */
export function createAwsIssuerFactory(_options?: AwsFactoryOptions): IssuerFactory {
  return () => {
    throw new IssuerInvalidError('the aws provider is not available in this build', 'ProviderNotAvailable');
  };
}
