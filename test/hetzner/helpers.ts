/**
 * Shared setup of the Hetzner tests: a started fake (closed at teardown, its spec violations
 * failing the test) with servers in fsn1 and one in nbg1, and an issuer factory pointed at it.
 */
import { Sessions, unboundedSession } from '../../src/issuers/session.js';
import { createHetznerIssuerFactory, type HetznerFactoryOptions } from '../../src/issuers/hetzner/index.js';
import type { RoutedIPIssuer, RoutedIPOwner } from '../../src/issuers/issuer.js';
import type { RoutedIPIssuerSpec } from '../../src/schemas/routed-ip.js';
import { NAMESPACE, secret } from '../fixtures/k8s.js';
import type { ModelOptions } from '../fakes/hetzner/model.js';
import { FakeHetzner, SPEC_ABSENT } from '../fakes/hetzner/server.js';
import { recordingLogger, type FakeTap } from '../digitalocean/helpers.js';

/** The token the fake accepts. */
export const TOKEN = 'hcloud-test-token';
/** The token Secret, labelled so Metacontroller would deliver it. */
export const tokenSecret = (token = TOKEN, labelled = true) => secret('hcloud-api', { token }, labelled);
export const OWNER: RoutedIPOwner = { namespace: NAMESPACE, name: 'public', uid: 'uid-public' };


/** A started fake with servers 101, 102, 103 in fsn1 and 201 in nbg1. */
export async function startFake(t: FakeTap, options: Partial<ModelOptions> = {}): Promise<FakeHetzner> {
  const fake = await new FakeHetzner(options).start();
  // Without ../shared the behaviour still runs; only the validation is skipped, and says so.
  if (SPEC_ABSENT !== undefined) t.test('requests and answers conform to the Hetzner Cloud API description', { skip: SPEC_ABSENT }, () => undefined);
  t.teardown(async () => {
    await fake.close();
    // Every request our issuer sent and every answer the fake gave must conform to the spec.
    if (fake.violations.length > 0) throw new Error(`Hetzner API description violations:\n${fake.violations.join('\n')}`);
  });
  for (const id of [101, 102, 103]) fake.model.addServer(id, 'fsn1', `node-${id}`);
  fake.model.addServer(201, 'nbg1', 'elsewhere');
  return fake;
}

/** The issuer spec pointing at the fake. */
export function issuerSpec(fake: FakeHetzner, extra: Partial<RoutedIPIssuerSpec> = {}): RoutedIPIssuerSpec {
  return { hetzner: { location: 'fsn1', tokenSecretRef: { name: 'hcloud-api' }, endpoint: fake.endpoint }, ...extra };
}

const sessionsOf = new WeakMap<object, Sessions>();

/** Builds an issuer for one "hook call" from a factory (share the factory to share budgets and locks). */
export function issuerFrom(factory: ReturnType<typeof createHetznerIssuerFactory>, fake: FakeHetzner, token = TOKEN): RoutedIPIssuer {
  // The process-wide part of the sessions (budgets) lives as long as the factory, as in the app.
  let sessions = sessionsOf.get(factory);
  if (!sessions) sessionsOf.set(factory, (sessions = new Sessions()));
  return factory({ namespace: NAMESPACE, name: 'cloud', spec: issuerSpec(fake), secrets: new Map([['hcloud-api', tokenSecret(token)]]), logger: recordingLogger(), session: unboundedSession(sessions) });
}

/** A fresh factory + issuer. */
export function makeIssuer(fake: FakeHetzner, options: HetznerFactoryOptions = {}): RoutedIPIssuer {
  return issuerFrom(createHetznerIssuerFactory(options), fake);
}

/** The NodeTarget of server `id`. */
export const target = (id: number) => ({ node: `node-${id}`, id: String(id) });
