/**
 * The default registry loads each cloud's code (its folder and its SDK) when the first issuer of
 * that cloud is built, once, and reports a failed load as that issuer's error, never a 5xx.
 *
 * This file imports no cloud folder statically (only types): what is loaded is the registry's
 * doing. Which scripts the process has compiled comes from the inspector (`Debugger.enable`
 * replays every script parsed so far), which sees ES modules and CommonJS alike.
 */
import { Session } from 'node:inspector/promises';
import t from 'tap';
import type { IssuerBuilder, IssuerContext } from '../../src/issuers/issuer.js';
import { createIssuerRegistry, type CloudLoaders } from '../../src/issuers/registry.js';
import { unboundedSession } from '../../src/issuers/session.js';
import type { RoutedIPIssuerSpec } from '../../src/schemas/routed-ip.js';
import { secret } from '../fixtures/k8s.js';
import { condition, ScriptedWorld } from '../hooks/world.js';
import { buildTestApp } from '../helpers/app.js';
import { silentLogger } from './memory-helpers.js';

/** The URLs of every script this process has compiled so far. */
async function loadedScripts(): Promise<string[]> {
  const session = new Session();
  session.connect();
  const urls: string[] = [];
  session.on('Debugger.scriptParsed', (message) => urls.push(message.params.url));
  await session.post('Debugger.enable');
  await session.post('Debugger.disable');
  session.disconnect();
  return urls;
}

/** Which clouds' code is loaded: a cloud folder of ours, or its SDK. */
async function loadedClouds(): Promise<string[]> {
  const urls = await loadedScripts();
  const marks: Record<string, RegExp> = {
    aws: /\/src\/issuers\/aws\/|\/node_modules\/@aws-sdk\/client-ec2\//,
    digitalocean: /\/src\/issuers\/digitalocean\/|\/node_modules\/dots-wrapper\//,
    hetzner: /\/src\/issuers\/hetzner\//,
  };
  return Object.keys(marks).filter((cloud) => urls.some((url) => marks[cloud]!.test(url)));
}

const context = (spec: RoutedIPIssuerSpec): IssuerContext => ({
  namespace: 'ingress',
  name: 'cloud',
  spec,
  secrets: new Map([['cloud-token', secret('cloud-token', { token: 'not-a-real-token' })]]),
  logger: silentLogger,
  session: unboundedSession(),
});
const DO: RoutedIPIssuerSpec = { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'cloud-token' } } };
const AWS: RoutedIPIssuerSpec = { aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9' } };
const HETZNER: RoutedIPIssuerSpec = { hetzner: { location: 'fsn1', tokenSecretRef: { name: 'cloud-token' } } };

t.test('the production registry loads a cloud only when its first issuer is built', async (t) => {
  const registry = createIssuerRegistry();
  t.same(await loadedClouds(), [], 'building the registry loads no cloud');
  const memory = await registry.memory!({ ...context({ memory: {} }) });
  t.equal(memory.provider, 'memory');
  t.same(await loadedClouds(), [], 'a memory issuer loads no cloud');
  const first = await registry.digitalocean!(context(DO));
  t.equal(first.provider, 'digitalocean');
  t.same(await loadedClouds(), ['digitalocean'], 'a DigitalOcean issuer loads DigitalOcean only, not the AWS SDK');
  t.equal((await registry.aws!(context(AWS))).provider, 'aws');
  t.equal((await registry.hetzner!(context(HETZNER))).provider, 'hetzner');
  t.same(await loadedClouds(), ['aws', 'digitalocean', 'hetzner']);
});

t.test('the first issuer of a cloud loads its code and makes its factory once; later ones reuse both', async (t) => {
  const counts = { loads: 0, makes: 0 };
  const loaders: Partial<CloudLoaders> = {
    digitalocean: async () => {
      counts.loads += 1;
      const make = (await import('../../src/issuers/digitalocean/index.js')).createDigitalOceanIssuerFactory;
      return (options): IssuerBuilder => {
        counts.makes += 1;
        t.same(options, { requestTimeoutInMs: 1234 }, "the cloud's options reach its factory");
        return make(options);
      };
    },
  };
  const registry = createIssuerRegistry({ loaders, digitalocean: { requestTimeoutInMs: 1234 } });
  t.same(counts, { loads: 0, makes: 0 }, 'nothing is loaded before the first issuer');
  const [a, b] = await Promise.all([registry.digitalocean!(context(DO)), registry.digitalocean!(context(DO))]);
  const c = await registry.digitalocean!(context(DO));
  t.same(counts, { loads: 1, makes: 1 }, 'concurrent first calls share one load; a later call loads nothing');
  t.ok(a !== b && b !== c, 'each call still gets an issuer of its own');
  t.same([a.provider, b.provider, c.provider], ['digitalocean', 'digitalocean', 'digitalocean']);
  await t.rejects(async () => registry.digitalocean!({ ...context(DO), secrets: new Map() }), { name: 'IssuerAuthError', reason: 'SecretNotFound' }, "the cloud factory's own errors come through as they are");
});

t.test("a failed load is the issuer's error, and the next call loads again", async (t) => {
  let attempts = 0;
  const loaders: Partial<CloudLoaders> = {
    aws: async () => {
      attempts += 1;
      if (attempts === 1) throw new Error("Cannot find module '/app/dist/issuers/aws/index.js' imported from /app/dist/issuers/registry.js\n    at stack lines");
      return (await import('../../src/issuers/aws/index.js')).createAwsIssuerFactory;
    },
  };
  const registry = createIssuerRegistry({ loaders });
  await t.rejects(async () => registry.aws!(context(AWS)), {
    name: 'IssuerUnavailableError',
    reason: 'ProviderLoadFailed',
    retryable: true,
    message: "the aws provider's code could not be loaded (Cannot find module '/app/dist/issuers/aws/index.js' imported from /app/dist/issuers/registry.js): the operator's image is incomplete or broken",
  });
  t.equal((await registry.aws!(context(AWS))).provider, 'aws', 'the failure is not kept: the next call loads');
  t.equal(attempts, 2);
});

t.test('a /sync whose cloud cannot be loaded answers 200 with the reason on Ready and a backoff', async (t) => {
  const w = new ScriptedWorld();
  const registry = createIssuerRegistry({ memoryCloud: w.cloud, loaders: { aws: () => Promise.reject(new Error('Cannot find package @aws-sdk/client-ec2')) } });
  const built = await buildTestApp(t, { registry, clock: w.clock.now });
  Object.assign(w, { app: built.app, logs: built.logs });
  w.issuerSpec = { routedIPReclaimPolicy: 'Delete', aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentialsSecretRef: { name: 'aws-creds' } } };
  const answer = await w.syncOnce();
  t.equal(answer.statusCode, 200);
  const ready = condition(answer.body.status, 'Ready');
  t.equal(ready?.status, 'False');
  t.equal(ready?.reason, 'ProviderLoadFailed');
  t.match(ready?.message, "the aws provider's code could not be loaded (Cannot find package @aws-sdk/client-ec2)");
  t.ok((answer.body.resyncAfterSeconds ?? 0) > 0, 'retried with backoff');
  const finalized = await w.finalize();
  t.equal(finalized.statusCode, 200, 'finalize answers 200 too');
  t.equal(finalized.body.finalized, false, 'and waits for a usable issuer');
});
