/**
 * A valid but hostile issuer, and unexpected failures, never become a 500: a secret key named
 * like an Object.prototype member reads as "absent", anything unexpected while building an
 * issuer or running a step becomes a condition with the status carried forward and a backoff,
 * on /sync and on /finalize (so the RoutedIP can still be deleted), and a 500 body never shows
 * internal error codes.
 */
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { createIssuerRegistry, type IssuerRegistry } from '../../src/issuers/registry.js';
import { createMemoryIssuer } from '../../src/issuers/memory/issuer.js';
import type { Secret } from '../../src/schemas/kubernetes.js';
import { secret } from '../fixtures/k8s.js';
import { buildTestApp, finalize, sync } from '../helpers/app.js';
import { condition, ScriptedWorld } from './world.js';

const PROTOTYPE_KEYS = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'];

/** A Secret whose `data` also holds the prototype-named keys as own properties (valid Secret keys). */
const hostileSecret = (name: string, data: Record<string, string>): Secret => {
  const s = secret(name, data);
  // JSON.parse makes `__proto__` an own property, as a delivered Secret would have it.
  s.data = { ...JSON.parse('{"__proto__":"aG9zdGlsZQ=="}'), ...s.data } as Record<string, string>;
  return s;
};

/** POST a request as JSON text built by hand, so own `__proto__` keys reach the wire. */
const post = (w: ScriptedWorld, url: string, body: unknown) =>
  w.app.inject({ method: 'POST', url, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

t.test('tokenSecretRef.key named after an Object.prototype member: SecretKeyNotFound on sync and finalize, never a 500', async (t) => {
  for (const key of PROTOTYPE_KEYS) {
    const w = await new ScriptedWorld().start(t);
    w.issuerSpec = { routedIPReclaimPolicy: 'Delete', digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api', key }, endpoint: 'http://127.0.0.1:9' } };
    const secrets = [secret('do-api', { token: 'dop_v1_not-used-here' })];
    const synced = await post(w, '/sync', w.request({ secrets }));
    t.equal(synced.statusCode, 200, `${key}: sync answers 200`);
    const ready = condition(synced.json().status, 'Ready');
    t.equal(ready?.reason, 'SecretKeyNotFound', `${key}: the key reads as absent`);
    t.match(ready?.message, `"${key}"`);
    const finalized = await post(w, '/finalize', { ...w.request({ secrets }), finalizing: true });
    t.equal(finalized.statusCode, 200, `${key}: finalize answers 200`);
    t.equal(finalized.json().finalized, false, 'deletion waits for a usable issuer, with a condition saying so');
  }
});

t.test('Secrets carrying prototype-named keys are served: DigitalOcean and AWS credentials read own keys only', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.issuerSpec = { routedIPReclaimPolicy: 'Delete', aws: { region: 'us-east-1', credentialsSecretRef: { name: 'aws-creds' }, endpoint: 'http://127.0.0.1:9' } };
  const aws = await post(w, '/sync', w.request({ secrets: [hostileSecret('aws-creds', {})] }));
  t.equal(aws.statusCode, 200, 'a Secret with a __proto__ data key is not a bad request');
  t.equal(condition(aws.json().status, 'Ready')?.reason, 'SecretKeyNotFound', 'accessKeyId is not found on the prototype');
  for (const name of ['constructor', '__proto__', 'toString']) {
    w.issuerSpec = { aws: { region: 'us-east-1', credentialsSecretRef: { name } } };
    const res = await post(w, '/sync', w.request({ secrets: [hostileSecret('aws-creds', { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' })] }));
    t.equal(res.statusCode, 200, `credentialsSecretRef.name ${name}`);
    // `constructor` is a valid Secret name that no Secret has; the others break the CRD's name
    // pattern, which the webhook enforces too (one schema source), naming the field.
    const expected = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) ? 'SecretNotFound' : 'InvalidIssuerSpec';
    t.equal(condition(res.json().status, 'Ready')?.reason, expected, `${name}: ${expected}`);
  }
  t.equal(({} as Record<string, unknown>).hostile, undefined, 'no prototype pollution');
});

/** A world whose registry wraps the memory issuer and lets a test break it. */
async function breakable(t: { teardown(fn: () => unknown): void }, breakIt: 'factory' | 'nodeTarget' | 'findRoutedIP') {
  const w = new ScriptedWorld();
  let broken = false;
  const memory = createIssuerRegistry({ memoryCloud: w.cloud }).memory!;
  const registry: IssuerRegistry = {
    memory: (context) => {
      if (broken && breakIt === 'factory') throw new TypeError('The "data" argument must be of type string. Received function constructor');
      const issuer = memory(context);
      if (!broken || breakIt === 'factory') return issuer;
      if (breakIt === 'nodeTarget') return { ...issuer, nodeTarget: () => { throw new RangeError('Invalid array length'); } };
      return { ...issuer, findRoutedIP: () => { throw Object.assign(new TypeError('x is not a function'), { code: 'ERR_INVALID_ARG_TYPE' }); } };
    },
  };
  const built = await buildTestApp(t, { registry, clock: w.clock.now });
  Object.assign(w, { app: built.app, logs: built.logs });
  return { w, breakNow: () => void (broken = true) };
}

t.test('an unexpected error while building the issuer or running a step is a condition, status carried forward, with backoff', async (t) => {
  for (const where of ['factory', 'nodeTarget', 'findRoutedIP'] as const) {
    const { w, breakNow } = await breakable(t, where);
    const first = await w.sync();
    t.equal(condition(first.body.status, 'Ready')?.status, 'True');
    const address = w.status.address;
    breakNow();
    const res = await w.sync();
    t.equal(res.statusCode, 200, `${where}: sync answers 200`);
    const ready = condition(res.body.status, 'Ready');
    t.equal(ready?.status, 'False');
    t.ok(ready?.reason === 'InternalError' || ready?.reason === 'CloudUnavailable', `${where}: ${ready?.reason}`);
    t.equal(res.body.status.address, address, `${where}: the address is carried forward`);
    t.ok((res.body.resyncAfterSeconds ?? 0) > 0, `${where}: backoff`);
    t.notMatch(res.raw, /ERR_[A-Z_]+/, 'no internal error code in the status');
    const fin = await w.finalize();
    t.equal(fin.statusCode, 200, `${where}: finalize answers 200`);
    t.equal(fin.body.finalized, false, 'not finalized on an error');
    t.ok((fin.body.resyncAfterSeconds ?? 0) > 0);
  }
});

t.test('a 500 body names no internal error code', async (t) => {
  const w = new ScriptedWorld();
  const app = buildApp({ registry: { memory: (c) => createMemoryIssuer(w.cloud, c) }, defaultMetrics: false });
  app.post('/explode', async () => {
    throw Object.assign(new TypeError('The "data" argument must be of type string'), { code: 'ERR_INVALID_ARG_TYPE' });
  });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'POST', url: '/explode', payload: {} });
  t.equal(res.statusCode, 500);
  t.same(res.json(), { statusCode: 500, code: 'INTERNAL', error: 'Internal Server Error', message: 'internal error' });
  t.notMatch(res.payload, /ERR_|TypeError|data/);
  // and the hooks still answer
  t.equal((await sync(app, w.request())).statusCode, 200);
  t.equal((await finalize(app, w.request())).statusCode, 200);
});
