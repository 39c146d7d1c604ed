/**
 * Bad spec vs bad request (issue 7 item 5): a parent whose stored spec violates the schema gets
 * a 200 with Ready=False, reason InvalidSpec, and a message naming the field — on /sync,
 * /finalize and /customize, and on the issuer, Node, Service and Secret controllers' hooks.
 * Only a request that is no Metacontroller hook request at all (test/hooks/http.test.ts) is 400.
 */
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { issuer, NAMESPACE, routedIP, secret } from '../fixtures/k8s.js';
import type { RoutedIPObject, RoutedIPStatus } from '../../src/schemas/routed-ip.js';
import { FINALIZER } from '../../src/reconcile/index.js';
import { errorLines, readDoc, schemaValidator } from '../manifests/k8s-schema.js';
import { ACCOUNT, condition, ScriptedWorld } from './world.js';

const validate = schemaValidator(readDoc('manifests/crds/routedips.yaml', 'CustomResourceDefinition'));
const validateIssuer = schemaValidator(readDoc('manifests/crds/routedipissuers.yaml', 'CustomResourceDefinition'));
const keyed = <T extends { metadata: { name: string; namespace?: string } }>(items: T[]) => Object.fromEntries(items.map((o) => [`${o.metadata.namespace ?? NAMESPACE}/${o.metadata.name}`, o]));
/** `o` with a stored spec the schema rejects (the types say it is valid; the API server once let it in). */
const withSpec = (o: RoutedIPObject, spec: unknown): RoutedIPObject => ({ ...o, spec: spec as RoutedIPObject['spec'] });

const INVALID: [string, (valid: RoutedIPObject['spec']) => unknown, RegExp][] = [
  ['issuerRef: {}', (s) => ({ ...s, issuerRef: {} }), /spec\.issuerRef\.name/],
  ['issuerRef.name of the wrong type', (s) => ({ ...s, issuerRef: { name: 7 } }), /spec\.issuerRef\.name/],
  ['an unknown nodeSelector operator', (s) => ({ ...s, nodeSelector: { matchExpressions: [{ key: 'pool', operator: 'Near', values: ['a'] }] } }), /spec\.nodeSelector\.matchExpressions\.0\.operator: must be In, NotIn, Exists or DoesNotExist/],
  ['65 ports', (s) => ({ ...s, ports: Array.from({ length: 65 }, (_, i) => ({ port: 1000 + i })) }), /spec\.ports: must be at most 64 items/],
  ['a spec that is a string', () => 'public', /spec: must be object/],
];

for (const [what, mutate, field] of INVALID) {
  t.test(`/sync: ${what} is 200, Ready=False InvalidSpec naming the field, no cloud call`, async (t) => {
    const w = await new ScriptedWorld().start(t);
    w.parent = withSpec(w.parent, mutate(w.parent.spec));
    w.cloud.clearCalls();
    const res = await w.sync();
    t.equal(res.statusCode, 200, res.raw.slice(0, 200));
    t.match(condition(res.body.status, 'Ready'), { status: 'False', reason: 'InvalidSpec', message: field });
    t.same(w.cloud.calls(), [], 'nothing was asked of any cloud');
    t.ok(validate({ ...routedIP('public'), status: res.body.status }), `the CRD accepts the status: ${errorLines(validate).join('; ') || 'valid'}`);
  });
}

t.test('/customize answers for an invalid spec, from its valid fields only', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const res = await w.app.inject({ method: 'POST', url: '/customize', payload: { parent: withSpec(w.parent, { issuerRef: {}, serviceRef: { name: 'ingress-nginx' }, nodeSelector: 'x' }) } });
  t.equal(res.statusCode, 200, res.payload.slice(0, 200));
  const rules = (res.json() as { relatedResources: { resource: string; names?: string[] }[] }).relatedResources;
  t.notOk(rules.some((r) => r.resource === 'routedipissuers'), 'no issuer is related without a valid issuerRef');
  t.ok(rules.some((r) => r.resource === 'services' && r.names?.[0] === 'ingress-nginx'), 'the valid serviceRef is still related');
  t.ok(rules.some((r) => r.resource === 'nodes'), 'nodes are related (all of them: the selector is invalid)');
});

t.test('/finalize with no valid issuerRef completes when the status records nothing held', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.parent = withSpec(w.parent, { issuerRef: {} });
  const res = await w.finalize();
  t.equal(res.statusCode, 200);
  t.equal(res.body.finalized, true, 'nothing was ever allocated: the RoutedIP can go');
  t.match(condition(res.body.status, 'Ready'), { reason: 'InvalidSpec', message: /spec\.issuerRef\.name.*nothing was allocated/ });
});

t.test('/finalize with no valid issuerRef waits when the status records an address, and says how to let go', async (t) => {
  const w = await new ScriptedWorld().start(t);
  for (let i = 0; i < 5; i++) await w.sync();
  const address = w.status.address;
  t.ok(address, 'the IP landed');
  w.parent = withSpec(w.parent, { issuerRef: {} });
  const res = await w.finalize();
  t.equal(res.statusCode, 200);
  t.equal(res.body.finalized, false, 'the cloud cannot be reached: the deletion waits');
  t.match(condition(res.body.status, 'Ready')?.message, new RegExp(`address ${address?.replaceAll('.', '\\.')}.*remove the finalizer ${FINALIZER}`));
  t.equal(res.body.status.address, address, 'the status keeps what is held');
});

t.test('/finalize with a valid issuerRef and another invalid field cleans the cloud as usual', async (t) => {
  const w = await new ScriptedWorld().start(t);
  for (let i = 0; i < 5; i++) await w.sync();
  t.ok(w.status.address, 'the IP landed');
  w.parent = withSpec(w.parent, { ...w.parent.spec, nodeSelector: { matchLabels: 'pool' } });
  let res = await w.finalize();
  for (let i = 0; i < 5 && res.body.finalized !== true; i++) res = await w.finalize();
  t.equal(res.body.finalized, true);
  t.same(w.cloud.snapshot(ACCOUNT).ips, [], 'Delete policy: the created IP was released');
});

t.test('/finalize never releases an address the spec adopts, even when that field is unreadable', async (t) => {
  const w = await new ScriptedWorld().start(t);
  for (let i = 0; i < 5; i++) await w.sync();
  const address = w.status.address as string;
  // The same IP, but the spec says it was adopted, in a form the schema rejects.
  w.parent = withSpec(w.parent, { ...w.parent.spec, address: `${address}/32` });
  let res = await w.finalize();
  for (let i = 0; i < 5 && res.body.finalized !== true; i++) res = await w.finalize();
  t.equal(res.statusCode, 200);
  t.notOk(w.writes().some((c) => c.startsWith('releaseRoutedIP')), `no release: ${w.writes().join('; ')}`);
  t.equal(w.cloud.snapshot(ACCOUNT).ips.length, 1, 'the adopted IP is still in the account');
});

async function post(app: FastifyInstance, url: string, payload: unknown) {
  const res = await app.inject({ method: 'POST', url, payload: payload as object });
  return { code: res.statusCode, body: res.json() as Record<string, unknown> & { status?: RoutedIPStatus; finalized?: boolean } };
}

t.test('/issuer/sync: an issuer whose stored spec is invalid gets Ready=False InvalidSpec naming the field', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const bad = issuer('cloud', { memory: { firewalls: 'ingress-public' } } as never);
  const res = await post(w.app, '/issuer/sync', { parent: bad, related: { 'RoutedIP.routedip.io/v1alpha1': keyed([withSpec(routedIP('odd'), { issuerRef: 5 })]) } });
  t.equal(res.code, 200);
  t.match(res.body.status?.conditions, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: /spec\.memory\.firewalls/ }]);
  t.ok(validateIssuer({ ...issuer('cloud', { memory: {} }), status: res.body.status }), `the CRD accepts the status: ${errorLines(validateIssuer).join('; ') || 'valid'}`);
  const customize = await post(w.app, '/issuer/customize', { parent: bad });
  t.equal(customize.code, 200);
});

t.test('/node/sync and /service/sync read related RoutedIPs with invalid specs without failing', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const odd = withSpec(routedIP('ingress-nginx'), { issuerRef: {}, address: 12 });
  const node = await post(w.app, '/node/sync', { object: w.nodes[0], related: { 'RoutedIP.routedip.io/v1alpha1': keyed([odd]) } });
  t.equal(node.code, 200);
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ingress-nginx', namespace: NAMESPACE }, spec: { type: 'ClusterIP' } };
  const service = await post(w.app, '/service/sync', { object: svc, attachments: {}, related: { 'RoutedIP.routedip.io/v1alpha1': keyed([odd]) } });
  t.equal(service.code, 200);
});

t.test('/secret/finalize holds a Secret that an issuer with an invalid spec still names', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const badIssuer = issuer('cloud', { digitalocean: { region: 'NYC 3', tokenSecretRef: { name: 'do-api' } } } as never);
  const user = routedIP('public');
  const deleted = { ...secret('do-api', { token: 'x' }), metadata: { ...secret('do-api', { token: 'x' }).metadata, deletionTimestamp: '2026-11-23T12:00:00Z' } };
  const res = await post(w.app, '/secret/finalize', {
    object: deleted,
    attachments: {},
    related: { 'RoutedIPIssuer.routedip.io/v1alpha1': keyed([badIssuer]), 'RoutedIP.routedip.io/v1alpha1': keyed([user, withSpec(routedIP('odd'), { issuerRef: [] })]) },
    finalizing: true,
  });
  t.equal(res.code, 200);
  t.equal(res.body.finalized, false, 'a RoutedIP still uses the issuer that names the Secret');
});
