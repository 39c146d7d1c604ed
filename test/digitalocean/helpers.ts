/**
 * Shared setup of the DigitalOcean tests: a started fake (closed at teardown) with droplets in
 * nyc3, an issuer factory pointed at it, and a logger that records every line it is given.
 */
import type { FastifyBaseLogger } from 'fastify';
import { unboundedSession } from '../../src/issuers/session.js';
import { createDigitalOceanIssuerFactory, type DigitalOceanFactoryOptions } from '../../src/issuers/digitalocean/index.js';
import type { RoutedIPIssuer, RoutedIPOwner } from '../../src/issuers/issuer.js';
import type { CreateIntent, RoutedIPIssuerSpec } from '../../src/schemas/routed-ip.js';
import { NAMESPACE, secret } from '../fixtures/k8s.js';
import type { ModelOptions } from '../fakes/digitalocean/model.js';
import { FakeDigitalOcean, SPEC_ABSENT } from '../fakes/digitalocean/server.js';

/** The token the fake accepts. */
export const TOKEN = 'do-test-token';
/** The token Secret, labelled so Metacontroller would deliver it. */
export const tokenSecret = (token = TOKEN, labelled = true) => secret('do-api', { token }, labelled);
export const OWNER: RoutedIPOwner = { namespace: NAMESPACE, name: 'public', uid: 'uid-public' };

/** The part of a tap Test the fake's setup uses. */
export interface FakeTap {
  teardown(fn: () => unknown): void;
  test(name: string, extra: { skip: string }, fn: () => void): unknown;
}

/** A started fake with droplets 101, 102, 103 in nyc3 and 201 in sfo3. */
export async function startFake(t: FakeTap, options: Partial<ModelOptions> = {}): Promise<FakeDigitalOcean> {
  // axios honours HTTP(S)_PROXY; loopback must never go through one.
  process.env.NO_PROXY = '127.0.0.1,localhost';
  const fake = await new FakeDigitalOcean(options).start();
  // Without ../shared the behaviour still runs; only the spec check is skipped, and says so.
  if (SPEC_ABSENT !== undefined) t.test('requests and answers conform to the DigitalOcean spec', { skip: SPEC_ABSENT }, () => undefined);
  t.teardown(async () => {
    await fake.close();
    // Every request our issuer sent and every answer the fake gave must conform to the spec.
    if (fake.violations.length > 0) throw new Error(`DigitalOcean spec violations:\n${fake.violations.join('\n')}`);
  });
  for (const id of [101, 102, 103]) fake.model.addDroplet(id, 'nyc3');
  fake.model.addDroplet(201, 'sfo3');
  return fake;
}

/** A logger that keeps every argument it was called with, serialised. */
export function recordingLogger(): FastifyBaseLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (...args: unknown[]) => void lines.push(JSON.stringify(args, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v)));
  const logger = { lines, level: 'trace', fatal: log, error: log, warn: log, info: log, debug: log, trace: log, silent: log, child: () => logger };
  return logger as unknown as FastifyBaseLogger & { lines: string[] };
}

/** The issuer spec pointing at the fake. */
export function issuerSpec(fake: FakeDigitalOcean, extra: Partial<RoutedIPIssuerSpec> = {}): RoutedIPIssuerSpec {
  return { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api' }, endpoint: fake.endpoint }, ...extra };
}

/** Builds an issuer for one "hook call" from a factory (share the factory to share budgets). */
export function issuerFrom(
  factory: ReturnType<typeof createDigitalOceanIssuerFactory>,
  fake: FakeDigitalOcean,
  token = TOKEN,
): RoutedIPIssuer {
  return factory({ namespace: NAMESPACE, name: 'cloud', spec: issuerSpec(fake), secrets: new Map([['do-api', tokenSecret(token)]]), logger: recordingLogger(), session: unboundedSession() });
}

/** A fresh factory + issuer. */
export function makeIssuer(fake: FakeDigitalOcean, options: DigitalOceanFactoryOptions = {}): RoutedIPIssuer {
  return issuerFrom(createDigitalOceanIssuerFactory(options), fake);
}

/**
 * The create intent a sync would record now for droplet `id`: every reserved IP of nyc3 the fake
 * holds is known (existed before the intent).
 */
export function intentFor(fake: FakeDigitalOcean, id: number, since = '2026-11-23T12:00:00Z'): CreateIntent {
  const knownAddresses = [...fake.model.reservedIPs.values()].filter((r) => r.region === 'nyc3').map((r) => r.ip).sort();
  return { node: `node-${id}`, target: String(id), since, knownAddresses };
}

/** The NodeTarget of droplet `id`. */
export const target = (id: number) => ({ node: `node-${id}`, id: String(id) });

/** Calls `fn`, returning what it threw (or fails when it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<Error & { reason?: string; retryAfterSeconds?: number }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { reason?: string };
  }
  throw new Error('expected a failure');
}
