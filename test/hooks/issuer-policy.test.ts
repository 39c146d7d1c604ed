/**
 * Least privilege through /sync and /customize (issue 7 item 4, PRODUCT.md invariant 11):
 * endpoint overrides only to allowed hosts, ambient AWS credentials only for
 * ClusterRoutedIPIssuers or allowed namespaces, ClusterRoutedIPIssuers reading Secrets from the
 * operator's namespace, a memory provider that can be switched off and is bounded.
 * Every app here runs the production configuration parsed by `loadConfig` from the environment.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { loadConfig } from '../../src/config.js';
import { MemoryCloud } from '../../src/issuers/memory/cloud.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import type { RoutedIPIssuerSpec } from '../../src/schemas/routed-ip.js';
import { endpointSlice, issuer, NAMESPACE, node, routedIP, secret, service, syncRequest, type World } from '../fixtures/k8s.js';
import { buildTestApp, sync } from '../helpers/app.js';
import { condition } from './world.js';

/** A host that records every request it gets: what an attacker's endpoint would see. */
async function recordingHost(t: Test): Promise<{ endpoint: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`, seen };
}

/** An app with the configuration `env` would give the operator. */
async function appWith(t: Test, env: NodeJS.ProcessEnv, memoryCloud = new MemoryCloud()) {
  const config = loadConfig(env);
  const { app } = await buildTestApp(t, { registry: createIssuerRegistry({ memoryCloud, memoryProvider: config.memoryProvider }), issuerPolicy: config.issuerPolicy });
  return app;
}

const cluster = (extra: Partial<World> & { spec: RoutedIPIssuerSpec; kind?: 'RoutedIPIssuer' | 'ClusterRoutedIPIssuer' }) => {
  const kind = extra.kind ?? 'RoutedIPIssuer';
  const parent = routedIP('public', { issuerRef: { name: 'cloud', ...(extra.kind ? { kind } : {}) }, serviceRef: { name: 'ingress-nginx' } });
  const iss = issuer('cloud', extra.spec);
  const clusterIss = { ...iss, kind: 'ClusterRoutedIPIssuer', metadata: { name: 'cloud', uid: 'uid-cluster-cloud', generation: 1 } };
  return syncRequest({
    parent,
    ...(kind === 'ClusterRoutedIPIssuer' ? { clusterIssuers: [clusterIss] } : { issuers: [iss] }),
    nodes: [node('n1'), node('n2')],
    services: [service('ingress-nginx', [443])],
    endpointSlices: [endpointSlice('ingress-nginx', [{ nodeName: 'n1' }, { nodeName: 'n2' }], [443])],
    ...extra,
  });
};

const doSpec = (endpoint: string): RoutedIPIssuerSpec => ({ digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api' }, endpoint } });
const token = 'dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab';

t.test('endpoint overrides: refused by default, so no credential leaves for an arbitrary host', async (t) => {
  const host = await recordingHost(t);
  for (const [what, env] of [
    ['the default configuration', {}],
    ['an allowlist naming another host', { ISSUER_ENDPOINT_HOSTS: 'localhost,api.example.com' }],
  ] as const) {
    const app = await appWith(t, env);
    const res = await sync(app, cluster({ spec: doSpec(host.endpoint), secrets: [secret('do-api', { token })] }));
    t.equal(res.statusCode, 200, what);
    const c = condition(res.body.status, 'IssuerReady');
    t.equal(c?.reason, 'EndpointNotAllowed', what);
    t.match(c?.message, /spec\.digitalocean\.endpoint host 127\.0\.0\.1 is not allowed.*ISSUER_ENDPOINT_HOSTS/, what);
    t.equal(condition(res.body.status, 'Ready')?.status, 'False', what);
  }
  const aws = await appWith(t, {});
  const res = await sync(aws, cluster({ spec: { aws: { region: 'us-east-1', endpoint: host.endpoint, credentialsSecretRef: { name: 'aws' } } }, secrets: [secret('aws', { accessKeyId: 'AKIAABCDEFGHIJKLMNOP', secretAccessKey: 'x'.repeat(40) })] }));
  t.equal(condition(res.body.status, 'IssuerReady')?.reason, 'EndpointNotAllowed', 'aws endpoint too');
  t.same(host.seen, [], 'the host never received a request, so never a token or a SigV4 signature');
});

t.test('endpoint overrides: an allowed host is used', async (t) => {
  const host = await recordingHost(t);
  const app = await appWith(t, { ISSUER_ENDPOINT_HOSTS: '127.0.0.1' });
  const res = await sync(app, cluster({ spec: doSpec(host.endpoint), secrets: [secret('do-api', { token })] }));
  t.equal(res.statusCode, 200);
  t.not(condition(res.body.status, 'IssuerReady')?.reason, 'EndpointNotAllowed');
  t.ok(host.seen.length > 0, 'the allowed host was called');
});

t.test('ambient AWS credentials: refused for a namespaced issuer unless its namespace is allowed', async (t) => {
  const host = await recordingHost(t);
  const spec: RoutedIPIssuerSpec = { aws: { region: 'us-east-1', endpoint: host.endpoint } };
  const refused = await appWith(t, { ISSUER_ENDPOINT_HOSTS: '127.0.0.1' });
  const res = await sync(refused, cluster({ spec }));
  const c = condition(res.body.status, 'IssuerReady');
  t.equal(c?.reason, 'AmbientCredentialsNotAllowed');
  t.match(c?.message, /RoutedIPIssuer ingress\/cloud has no spec\.aws\.credentialsSecretRef/);
  t.match(c?.message, /ClusterRoutedIPIssuer/, 'says how: a ClusterRoutedIPIssuer');
  t.match(c?.message, /add namespace ingress to ISSUER_AMBIENT_CREDENTIALS_NAMESPACES/, 'says how: the operator setting');
  t.same(host.seen, [], 'no request was signed with the operator identity');

  for (const allowed of [NAMESPACE, '*', `other,${NAMESPACE}`]) {
    const app = await appWith(t, { ISSUER_ENDPOINT_HOSTS: '127.0.0.1', ISSUER_AMBIENT_CREDENTIALS_NAMESPACES: allowed });
    const answer = await sync(app, cluster({ spec }));
    t.equal(answer.statusCode, 200);
    t.not(condition(answer.body.status, 'IssuerReady')?.reason, 'AmbientCredentialsNotAllowed', `allowed with ${allowed}`);
  }
  const other = await appWith(t, { ISSUER_ENDPOINT_HOSTS: '127.0.0.1', ISSUER_AMBIENT_CREDENTIALS_NAMESPACES: 'other' });
  t.equal(condition((await sync(other, cluster({ spec }))).body.status, 'IssuerReady')?.reason, 'AmbientCredentialsNotAllowed', 'another namespace allowed is not this one');
});

t.test('a ClusterRoutedIPIssuer may use ambient credentials, and converges on the memory cloud', async (t) => {
  const host = await recordingHost(t);
  const app = await appWith(t, { ISSUER_ENDPOINT_HOSTS: '127.0.0.1' });
  const ambient = await sync(app, cluster({ kind: 'ClusterRoutedIPIssuer', spec: { aws: { region: 'us-east-1', endpoint: host.endpoint } } }));
  t.equal(ambient.statusCode, 200);
  t.not(condition(ambient.body.status, 'IssuerReady')?.reason, 'AmbientCredentialsNotAllowed');

  const memory = await sync(app, cluster({ kind: 'ClusterRoutedIPIssuer', spec: { routedIPReclaimPolicy: 'Delete', memory: {} } }));
  t.equal(condition(memory.body.status, 'Ready')?.status, 'True', JSON.stringify(memory.body.status.conditions));
  const missing = await sync(app, cluster({ kind: 'ClusterRoutedIPIssuer', spec: { memory: {} }, clusterIssuers: [] }));
  t.match(condition(missing.body.status, 'IssuerReady'), { reason: 'IssuerNotFound', message: 'ClusterRoutedIPIssuer cloud not found' });
  const namespaced = await sync(app, cluster({ spec: { memory: {} }, issuers: [] , clusterIssuers: [{ ...issuer('cloud', { memory: {} }), metadata: { name: 'cloud' } }] }));
  t.equal(condition(namespaced.body.status, 'IssuerReady')?.reason, 'IssuerNotFound', 'kind defaults to RoutedIPIssuer: a cluster issuer of that name is not used');
});

t.test("a ClusterRoutedIPIssuer reads its Secrets from the operator's namespace only", async (t) => {
  const host = await recordingHost(t);
  const app = await appWith(t, { ISSUER_ENDPOINT_HOSTS: '127.0.0.1', OPERATOR_NAMESPACE: 'ops' });
  const inRoutedIPNamespace = secret('do-api', { token });
  const inOperatorNamespace = { ...secret('do-api', { token }), metadata: { ...secret('do-api', { token }).metadata, namespace: 'ops' } };
  const res = await sync(app, cluster({ kind: 'ClusterRoutedIPIssuer', spec: doSpec(host.endpoint), secrets: [inRoutedIPNamespace] }));
  t.match(condition(res.body.status, 'IssuerReady'), { reason: 'SecretNotFound', message: /Secret ops\/do-api was not delivered/ });
  t.same(host.seen, [], "a Secret of the RoutedIP's namespace is never used for a cluster issuer");
  await sync(app, cluster({ kind: 'ClusterRoutedIPIssuer', spec: doSpec(host.endpoint), secrets: [inOperatorNamespace] }));
  t.equal(host.seen.at(-1)?.authorization, `Bearer ${token}`, "the operator namespace's Secret is used");
});

t.test('customize relates the ClusterRoutedIPIssuer and the Secrets of the operator namespace', async (t) => {
  const app = await appWith(t, { OPERATOR_NAMESPACE: 'ops' });
  const parent = routedIP('public', { issuerRef: { name: 'shared', kind: 'ClusterRoutedIPIssuer' } });
  const res = await app.inject({ method: 'POST', url: '/customize', payload: { parent } });
  t.equal(res.statusCode, 200);
  const rules = (res.json() as { relatedResources: { resource: string; namespace?: string; names?: string[] }[] }).relatedResources;
  t.same(rules.find((r) => r.resource === 'clusterroutedipissuers'), { apiVersion: 'routedip.io/v1alpha1', resource: 'clusterroutedipissuers', names: ['shared'] });
  t.notOk(rules.some((r) => r.resource === 'routedipissuers'), 'no namespaced issuer');
  t.same(rules.filter((r) => r.resource === 'secrets').map((r) => r.namespace), ['ops'], 'Secrets of the operator namespace only');
  const namespaced = await app.inject({ method: 'POST', url: '/customize', payload: { parent: routedIP('public') } });
  const plain = (namespaced.json() as { relatedResources: { resource: string; namespace?: string }[] }).relatedResources;
  t.same(plain.filter((r) => r.resource === 'secrets').map((r) => r.namespace), [NAMESPACE]);
});

t.test("the issuer controller's credential check obeys the same policy", async (t) => {
  const host = await recordingHost(t);
  const app = await appWith(t, {});
  for (const [what, spec, reason] of [
    ['an endpoint override', doSpec(host.endpoint), 'EndpointNotAllowed'],
    ['ambient AWS credentials', { aws: { region: 'us-east-1' } }, 'AmbientCredentialsNotAllowed'],
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/issuer/sync', payload: { parent: issuer('cloud', spec), related: { 'Secret.v1': { [`${NAMESPACE}/do-api`]: secret('do-api', { token }) } } } });
    t.equal(res.statusCode, 200, what);
    t.match((res.json() as { status: { conditions: unknown[] } }).status.conditions, [{ type: 'Ready', status: 'False', reason }], what);
  }
  t.same(host.seen, [], 'the check never called the host');
});

t.test('the memory provider can be switched off', async (t) => {
  const app = await appWith(t, { MEMORY_PROVIDER: 'disabled' });
  const res = await sync(app, cluster({ spec: { memory: {} } }));
  t.match(condition(res.body.status, 'IssuerReady'), { reason: 'ProviderNotAvailable', message: /MEMORY_PROVIDER=disabled/ });
  const on = await appWith(t, {});
  t.equal(condition((await sync(on, cluster({ spec: { memory: {} } }))).body.status, 'Ready')?.status, 'True', 'enabled by default');
});

t.test('the memory cloud bounds its accounts and its call log', async (t) => {
  const cloud = new MemoryCloud({ maxAccounts: 2, maxCalls: 8 });
  const app = await appWith(t, {}, cloud);
  const named = (name: string) => {
    const request = cluster({ spec: { memory: {} } });
    const iss = issuer(name, { memory: {} });
    return { ...request, parent: routedIP(`rip-${name}`, { issuerRef: { name } }), related: { ...request.related, 'RoutedIPIssuer.routedip.io/v1alpha1': { [`${NAMESPACE}/${name}`]: iss } } };
  };
  for (const name of ['a', 'b']) t.equal(condition((await sync(app, named(name))).body.status, 'Ready')?.status, 'True', `account ${name}`);
  const third = await sync(app, named('c'));
  t.match(condition(third.body.status, 'Ready'), { status: 'False', reason: 'AccountLimitExceeded' });
  t.same(cloud.accountKeys(), [`${NAMESPACE}/a`, `${NAMESPACE}/b`]);
  for (let i = 0; i < 5; i++) await sync(app, named('a'));
  t.ok(cloud.calls().length <= 8, `call log holds ${cloud.calls().length} calls`);
  t.ok(cloud.calls().length > 0, 'and still the latest ones');
});

t.test('configuration: defaults and refused values', async (t) => {
  const d = loadConfig({});
  t.same([...d.issuerPolicy.endpointHosts], []);
  t.same(d.issuerPolicy.ambientNamespaces, new Set());
  t.equal(d.issuerPolicy.operatorNamespace, 'routedip-system');
  t.equal(d.memoryProvider, true);
  const c = loadConfig({ ISSUER_ENDPOINT_HOSTS: ' EC2.internal.example , [::1], 127.0.0.1,', ISSUER_AMBIENT_CREDENTIALS_NAMESPACES: 'a, b', OPERATOR_NAMESPACE: 'ops', MEMORY_PROVIDER: 'disabled' });
  t.same([...c.issuerPolicy.endpointHosts], ['ec2.internal.example', '::1', '127.0.0.1']);
  t.same(c.issuerPolicy.ambientNamespaces, new Set(['a', 'b']));
  t.equal(c.memoryProvider, false);
  t.equal(loadConfig({ ISSUER_AMBIENT_CREDENTIALS_NAMESPACES: '*' }).issuerPolicy.ambientNamespaces, '*');
  for (const [name, value] of [
    ['ISSUER_ENDPOINT_HOSTS', '127.0.0.1:8080'],
    ['ISSUER_ENDPOINT_HOSTS', 'https://api.example.com'],
    ['ISSUER_ENDPOINT_HOSTS', 'a.example/path'],
    ['ISSUER_AMBIENT_CREDENTIALS_NAMESPACES', 'Not_A_Namespace'],
    ['OPERATOR_NAMESPACE', 'a/b'],
    ['MEMORY_PROVIDER', 'off'],
  ] as const) {
    t.throws(() => loadConfig({ [name]: value }), new RegExp(name), `${name}=${value}`);
  }
});
