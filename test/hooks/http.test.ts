/**
 * The HTTP surface: a real socket driven by undici, malformed and hostile payloads, auth, the
 * body limit, customize, probes and metrics, and secrets kept out of logs and answers.
 */
import t from 'tap';
import { request as undiciRequest } from 'undici';
import { reconcile } from '../../src/reconcile/index.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { MemoryCloud } from '../../src/issuers/memory/cloud.js';
import { unboundedSession } from '../../src/issuers/session.js';
import { SyncResponseSchema } from '../../src/schemas/metacontroller.js';
import type { RoutedIPIssuerSpec } from '../../src/schemas/routed-ip.js';
import { node, secret, withLabels } from '../fixtures/k8s.js';
import { condition, ScriptedWorld } from './world.js';

t.test('over a real socket with undici, like Metacontroller', async (t) => {
  const w = await new ScriptedWorld().start(t, 's3cr3t-hook-token');
  const address = await w.app.listen({ port: 0, host: '127.0.0.1' });
  const post = (path: string, body: unknown, auth = 'Bearer s3cr3t-hook-token') =>
    undiciRequest(`${address}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: auth } });
  const claim = await post('/sync', w.request());
  t.equal(claim.statusCode, 200);
  w.parent = { ...w.parent, status: ((await claim.body.json()) as { status: never }).status };
  const ok = await post('/sync', w.request());
  t.equal(ok.statusCode, 200);
  const body = (await ok.body.json()) as { status: { address: string } };
  t.equal(body.status.address, '203.0.113.1');
  const denied = await post('/sync', w.request(), 'Bearer wrong');
  t.equal(denied.statusCode, 401);
  t.match(await denied.body.json(), { code: 'UNAUTHORIZED' });
  const customize = await post('/customize', { parent: w.parent });
  t.equal(customize.statusCode, 200);
  t.ok(Array.isArray(((await customize.body.json()) as { relatedResources: unknown[] }).relatedResources));
  const health = await undiciRequest(`${address}/healthz`);
  t.equal(health.statusCode, 200);
  await health.body.dump();
});

t.test('malformed and hostile payloads: a clear 4xx naming the problem, and the service keeps serving', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const cases: Array<[string, string, string, number, RegExp]> = [
    ['not JSON', '/sync', '{"parent":', 400, /JSON/i],
    ['missing parent', '/sync', '{}', 400, /parent/],
    ['parent without metadata', '/sync', '{"parent":{"spec":{"issuerRef":{"name":"x"}}}}', 400, /metadata/],
    ['wrong type for finalizing', '/sync', JSON.stringify({ ...w.request(), finalizing: 'yes' }), 400, /finalizing/],
    ['generation as a string', '/sync', JSON.stringify({ parent: { ...w.parent, metadata: { ...w.parent.metadata, generation: '3' } } }), 400, /generation/],
    ['nodes of the wrong shape', '/sync', JSON.stringify({ ...w.request(), related: { 'Node.v1': { n1: { metadata: 7 } } } }), 400, /metadata/],
    // Maps (labels, related groups) are JSON Schema additionalProperties (src/schemas/kubernetes.ts
    // MapOf): every value is still checked, whatever its key.
    ['a Node label that is not a string', '/sync', JSON.stringify({ ...w.request(), related: { 'Node.v1': { n1: { metadata: { name: 'n1', labels: { 'a\nb': 'x', zone: 7 } } } } } }), 400, /labels/],
    ['a related Node that is not an object', '/sync', JSON.stringify({ ...w.request(), related: { 'Node.v1': { n1: 7 } } }), 400, /Node\.v1/],
    ['customize without parent', '/customize', '{"controller":{}}', 400, /parent/],
  ];
  for (const [name, url, payload, code, message] of cases) {
    const res = await w.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
    t.equal(res.statusCode, code, name);
    const body = res.json() as { message: string; code: string };
    t.match(body.message, message, `${name}: message names the problem`);
    t.type(body.code, 'string');
  }
  const unknown = await w.app.inject({ method: 'POST', url: '/sync/extra' });
  t.equal(unknown.statusCode, 404);
  t.match(unknown.json(), { code: 'NOT_FOUND' });
  const wrongType = await w.app.inject({ method: 'POST', url: '/sync', payload: 'parent=x', headers: { 'content-type': 'text/plain' } });
  t.equal(wrongType.statusCode, 400, 'a text body is not a hook request');
  t.match(wrongType.json().message, /body must be object/);
  const form = await w.app.inject({ method: 'POST', url: '/sync', payload: 'parent=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(form.statusCode, 415, 'unsupported media type');
  // `__proto__` is a valid Secret data key, so a hook request may carry it: it is dropped while
  // parsing (no pollution), never a reason to refuse the call.
  const poisoned = await w.app.inject({ method: 'POST', url: '/sync', payload: JSON.stringify(w.request()).replace(/^\{/, '{"__proto__":{"polluted":true},'), headers: { 'content-type': 'application/json' } });
  t.equal(poisoned.statusCode, 200, 'prototype keys are removed, the call is served');
  t.equal((await w.sync()).statusCode, 200, 'still serving after all of that');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});

t.test('body limit: a sync with 5,000 related Nodes is accepted; a larger-than-limit body is a 413', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const bulky = (name: string) =>
    node(name, withLabels(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`example.com/label-${i}`, `value-${i}-${name}`]))), (n) => {
      n.metadata.annotations = { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', big: 'x'.repeat(2000) };
    });
  w.nodes = Array.from({ length: 5000 }, (_, i) => bulky(`node-${String(i).padStart(4, '0')}`));
  w.endpointsOn = ['node-0001'];
  const payload = JSON.stringify(w.request());
  t.ok(payload.length > 1024 * 1024 * 10, `payload is ${(payload.length / 1024 / 1024).toFixed(1)} MiB`);
  const res = await w.app.inject({ method: 'POST', url: '/sync', payload, headers: { 'content-type': 'application/json' } });
  t.equal(res.statusCode, 200);
  t.equal((res.json() as { status: { electedNode: string } }).status.electedNode, 'node-0001');
  const small = await new ScriptedWorld().start(t);
  const limited = await (await import('../helpers/app.js')).buildTestApp(t, { registry: createIssuerRegistry({ memoryCloud: small.cloud }), bodyLimit: 4096 });
  const tooBig = await limited.app.inject({ method: 'POST', url: '/sync', payload, headers: { 'content-type': 'application/json' } });
  t.equal(tooBig.statusCode, 413);
  t.match(tooBig.json(), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
});

t.test('the serialized status is the computed status: no field dropped by the response schema', async (t) => {
  const w = await new ScriptedWorld().start(t);
  await w.sync();
  w.nodes = w.nodes.map((n) => (n.metadata.name === w.status.node ? { ...n, status: { conditions: [{ type: 'Ready', status: 'False' }] } } : n));
  const request = w.request();
  const computed = await reconcile(structuredClone(request), {
    registry: createIssuerRegistry({ memoryCloud: cloneCloud(w) }),
    clock: w.clock.now,
    logger: w.app.log,
    session: unboundedSession(),
  });
  const res = await w.app.inject({ method: 'POST', url: '/sync', payload: request });
  t.same(res.json().status, JSON.parse(JSON.stringify(computed.status)), 'every computed field is on the wire');
  // createIntent exists only on clouds that cannot mark an IP: test/digitalocean/sync.test.ts reads it off the wire;
  // holderIneligible only while a failover grace runs: test/hooks/steering.test.ts reads it off the wire.
  const occasional = new Set(['pendingAction', 'createIntent', 'holderIneligible']);
  t.ok(Object.keys(SyncResponseSchema.properties.status.properties).every((k) => occasional.has(k) || k in res.json().status), 'all status fields present in this scenario');
});

t.test('secrets never appear in logs, answers or status', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const token = 'dop_v1_SUPERSECRETVALUE0123456789';
  const req = w.request({ secrets: [secret('do-api', { token })] });
  req.related!['RoutedIPIssuer.routedip.io/v1alpha1'] = {
    'ingress/cloud': { metadata: { name: 'cloud', namespace: 'ingress' }, spec: { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api', key: 'token' }, endpoint: 'http://127.0.0.1:9/v2' } } },
  };
  const res = await w.app.inject({ method: 'POST', url: '/sync', payload: req, headers: { authorization: `Bearer ${token}` } });
  t.equal(res.statusCode, 200);
  const encoded = Buffer.from(token).toString('base64');
  for (const needle of [token, encoded]) {
    t.notOk(res.payload.includes(needle), 'not in the answer');
    t.notOk(w.logs.join('\n').includes(needle), 'not in the logs');
  }
  const metrics = await w.app.inject({ method: 'GET', url: '/metrics' });
  t.notOk(metrics.payload.includes(token), 'not in metrics');
  t.ok(w.logs.length > 0, 'logs were written');
});

t.test('customize: rules depend on the spec only and name what sync reads', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.parent = { ...w.parent, spec: { ...w.parent.spec!, nodeSelector: { matchLabels: { ingress: 'true' } } } };
  const res = await w.app.inject({ method: 'POST', url: '/customize', payload: { controller: {}, parent: w.parent } });
  t.equal(res.statusCode, 200);
  t.same(res.json(), {
    relatedResources: [
      { apiVersion: 'routedip.io/v1alpha1', resource: 'routedipissuers', namespace: 'ingress', names: ['cloud'] },
      { apiVersion: 'v1', resource: 'secrets', namespace: 'ingress', labelSelector: { matchExpressions: [{ key: 'routedip.io/issuer', operator: 'Exists' }] } },
      { apiVersion: 'v1', resource: 'services', namespace: 'ingress', names: ['ingress-nginx'] },
      { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices', namespace: 'ingress', labelSelector: { matchLabels: { 'kubernetes.io/service-name': 'ingress-nginx' } } },
      { apiVersion: 'v1', resource: 'pods', namespace: 'ingress' },
      { apiVersion: 'v1', resource: 'nodes', labelSelector: { matchLabels: { ingress: 'true' } } },
      { apiVersion: 'routedip.io/v1alpha1', resource: 'routedips' },
    ],
  });
  const withStatus = await w.app.inject({ method: 'POST', url: '/customize', payload: { parent: { ...w.parent, status: { address: '1.2.3.4' }, metadata: { ...w.parent.metadata, labels: { a: 'b' } } } } });
  t.equal(withStatus.payload, res.payload, 'labels and status do not change the answer');
  const explicit = await w.app.inject({ method: 'POST', url: '/customize', payload: { parent: { ...w.parent, spec: { ...w.parent.spec!, ports: [{ port: 443 }] } } } });
  t.notOk(explicit.json().relatedResources.some((r: { resource: string }) => r.resource === 'pods'), 'spec.ports set: no Pods needed');
});

t.test('probes, metrics, and an invalid issuer spec reported as a condition', async (t) => {
  const w = new ScriptedWorld();
  w.issuerSpec = { routedIPReclaimPolicy: 'Sometimes', memory: {} } as unknown as RoutedIPIssuerSpec;
  await w.start(t);
  const res = await w.sync();
  t.equal(res.statusCode, 200);
  t.equal(condition(res.body.status, 'IssuerReady')?.reason, 'InvalidIssuerSpec');
  t.match(condition(res.body.status, 'IssuerReady')?.message, /Retain or Delete/);
  t.equal((await w.app.inject({ url: '/healthz' })).statusCode, 200);
  t.equal((await w.app.inject({ url: '/readyz' })).statusCode, 200);
  const metrics = await w.app.inject({ url: '/metrics' });
  t.match(metrics.payload, /routedip_hook_requests_total\{hook="sync",code="200"\} 1/);
});

/** A copy of a world's cloud with the same state, so a computation can be replayed on the side. */
function cloneCloud(w: ScriptedWorld): MemoryCloud {
  const copy = new MemoryCloud();
  const snap = w.cloud.snapshot('ingress/cloud');
  for (const ip of snap.ips) copy.seedAddress('ingress/cloud', { address: ip.address, ...(ip.holder ? { holder: ip.holder } : {}), tags: ip.tags });
  for (const fw of snap.firewalls) copy.seedFirewall('ingress/cloud', fw.name, { rules: fw.rules, nodes: fw.nodes });
  return copy;
}
