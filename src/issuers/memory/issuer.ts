/** PLACEHOLDER: replaced by the memory issuer work. */
import type { MemoryCloud } from './cloud.js';
import type { IssuerContext } from '../registry.js';
import type { RoutedIPIssuer } from '../issuer.js';
import { IssuerInvalidError } from '../errors.js';
export function createMemoryIssuer(_cloud: MemoryCloud, _context: IssuerContext): RoutedIPIssuer {
  throw new IssuerInvalidError('not yet', 'ProviderNotAvailable');
}
