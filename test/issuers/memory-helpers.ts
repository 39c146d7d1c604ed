/** Builders for memory-issuer tests: an IssuerContext without a server, and the account key. */
import type { FastifyBaseLogger } from 'fastify';
import type { RoutedIPIssuer } from '../../src/issuers/issuer.js';
import { MemoryCloud } from '../../src/issuers/memory/cloud.js';
import { createMemoryIssuer } from '../../src/issuers/memory/issuer.js';
import type { IssuerContext } from '../../src/issuers/issuer.js';
import { unboundedSession } from '../../src/issuers/session.js';
import type { RoutedIPIssuerSpec } from '../../src/schemas/routed-ip.js';

const noop = (): void => undefined;

/** A logger that drops everything (the memory issuer logs nothing of interest). */
export const silentLogger: FastifyBaseLogger = {
  level: 'silent', fatal: noop, error: noop, warn: noop, info: noop, debug: noop, trace: noop, silent: noop,
  child: () => silentLogger,
} as unknown as FastifyBaseLogger;

/** The context the registry would hand the memory factory for issuer `ingress/<name>`. */
export function memoryContext(name = 'cloud', spec: Partial<RoutedIPIssuerSpec> = {}): IssuerContext {
  return { namespace: 'ingress', name, spec: { memory: {}, ...spec }, secrets: new Map(), logger: silentLogger, session: unboundedSession() };
}

/** A memory issuer for `ingress/<name>` with `firewalls`, on `cloud` (a fresh one by default). */
export function memoryIssuer(options: { cloud?: MemoryCloud; name?: string; firewalls?: string[] } = {}): {
  cloud: MemoryCloud;
  issuer: RoutedIPIssuer;
  account: string;
} {
  const cloud = options.cloud ?? new MemoryCloud();
  const name = options.name ?? 'cloud';
  const issuer = createMemoryIssuer(cloud, memoryContext(name, { memory: { firewalls: options.firewalls ?? [] } }));
  return { cloud, issuer, account: `ingress/${name}` };
}
