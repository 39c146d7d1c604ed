/**
 * The issuer controller and the Secret hold through their hooks on the memory cloud: status with
 * provider, RoutedIP count, Ready (one cached read) and FirewallFound; a deleted issuer or
 * labelled Secret is let go only when no RoutedIP needs it — so a namespace deletion finalizes
 * the RoutedIP first and the cloud ends clean.
 */
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { issuer, NAMESPACE, routedIP, secret } from '../fixtures/k8s.js';
import type { RoutedIPIssuerObject, RoutedIPIssuerStatus, RoutedIPObject } from '../../src/schemas/routed-ip.js';
import type { Secret } from '../../src/schemas/kubernetes.js';
import { schemaValidator, readDoc, errorLines } from '../manifests/k8s-schema.js';
import { ScriptedWorld, ACCOUNT } from './world.js';

const validate = schemaValidator(readDoc('manifests/crds/routedipissuers.yaml', 'CustomResourceDefinition'));
const keyed = <T extends { metadata: { name: string; namespace?: string } }>(items: T[]) => Object.fromEntries(items.map((o) => [`${o.metadata.namespace ?? NAMESPACE}/${o.metadata.name}`, o]));

async function issuerHook(app: FastifyInstance, parent: RoutedIPIssuerObject, routedIPs: RoutedIPObject[], finalizing = false) {
  const res = await app.inject({
    method: 'POST',
    url: finalizing ? '/issuer/finalize' : '/issuer/sync',
    payload: { parent, children: {}, related: { 'RoutedIP.routedip.io/v1alpha1': keyed(routedIPs), 'Secret.v1': {} }, finalizing },
  });
  return { code: res.statusCode, body: res.json() as { status: RoutedIPIssuerStatus; children: unknown[]; finalized?: boolean; resyncAfterSeconds?: number } };
}

async function secretFinalize(app: FastifyInstance, object: Secret, issuers: RoutedIPIssuerObject[], routedIPs: RoutedIPObject[]) {
  const res = await app.inject({
    method: 'POST',
    url: '/secret/finalize',
    payload: { object, attachments: {}, related: { 'RoutedIPIssuer.routedip.io/v1alpha1': keyed(issuers), 'RoutedIP.routedip.io/v1alpha1': keyed(routedIPs) }, finalizing: true },
  });
  return res.json() as { finalized?: boolean; attachments: unknown[] };
}

t.test('status: provider, RoutedIPs, Ready from one cached read, FirewallFound', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const cloudIssuer = issuer('cloud', world.issuerSpec);
  const users = [routedIP('a'), routedIP('b'), routedIP('c', { issuerRef: { name: 'other' } })];
  world.cloud.clearCalls();
  const first = await issuerHook(world.app, cloudIssuer, users);
  t.equal(first.code, 200);
  t.match(first.body.status, { observedGeneration: 1, provider: 'memory', routedIPs: 2 });
  t.match(first.body.status.conditions, [{ type: 'Ready', status: 'True', reason: 'CredentialsWork' }, { type: 'FirewallFound', status: 'True' }, { type: 'OrphansFound', status: 'Unknown', reason: 'SweepNotSupported' }]);
  t.ok(validate({ ...cloudIssuer, status: first.body.status }), `the CRD accepts the status: ${errorLines(validate).join('; ') || 'valid'}`);
  t.equal(first.body.resyncAfterSeconds, 300);
  const reads = world.cloud.calls(ACCOUNT).length;
  t.equal(reads, 1, 'one cheap read');
  const again = await issuerHook(world.app, { ...cloudIssuer, status: first.body.status }, users);
  t.equal(JSON.stringify(again.body.status), JSON.stringify(first.body.status), 'same bytes on a steady state');
  t.equal(world.cloud.calls(ACCOUNT).length, reads, 'the check is cached: no second read');

  // The memory account creates the firewalls its spec lists: name one it does not have.
  const edited = { ...issuer('cloud', { ...world.issuerSpec, routedIPFirewallName: 'missing' }), metadata: { ...cloudIssuer.metadata, generation: 2 } };
  const moved = await issuerHook(world.app, edited, users);
  t.match(moved.body.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'FirewallFound', status: 'False', reason: 'FirewallNotFound' }], 'a new generation checks again');
  const bad = await issuerHook(world.app, issuer('bad', {}), []);
  t.match(bad.body.status.conditions, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec' }], 'the issuer is the parent here: its own invalid spec is InvalidSpec');
});

t.test('a deleted issuer and a labelled Secret are held until the last RoutedIP is finalized', async (t) => {
  const world = await new ScriptedWorld().start(t);
  for (let i = 0; i < 5; i++) await world.sync();
  t.ok(world.status.address, 'the IP landed');
  const doIssuer = issuer('cloud', { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api', key: 'token' } } });
  const token = secret('do-api', { token: 'x' });
  const deleting = (o: RoutedIPObject) => ({ ...o, metadata: { ...o.metadata, deletionTimestamp: '2026-11-23T12:00:00Z' } });

  // kubectl delete namespace: everything gets a deletionTimestamp at once.
  let held = await issuerHook(world.app, issuer('cloud', world.issuerSpec), [deleting(world.parent)], true);
  t.equal(held.body.finalized, false, 'the issuer waits for the RoutedIP');
  t.match(held.body.status.conditions[0], { type: 'Ready', status: 'False', reason: 'Deleting', message: /kept until 1 RoutedIP using it is gone: ingress\/public/ });
  t.equal((await secretFinalize(world.app, { ...token, metadata: { ...token.metadata, deletionTimestamp: 'x' } }, [doIssuer], [deleting(world.parent)])).finalized, false, 'the Secret waits too');
  t.equal((await secretFinalize(world.app, { ...token, metadata: { ...token.metadata, deletionTimestamp: 'x' } }, [doIssuer], [])).finalized, true);
  t.equal((await secretFinalize(world.app, secret('unrelated', {}), [doIssuer], [world.parent])).finalized, true, 'a Secret no issuer names is not held');
  const unlabelled = { ...token, metadata: { ...token.metadata, labels: {} } };
  t.equal((await secretFinalize(world.app, unlabelled, [doIssuer], [world.parent])).finalized, true, 'removing the label releases it');

  // The RoutedIP's finalize still sees its issuer, so the cloud is cleaned.
  let done = false;
  for (let i = 0; i < 6 && !done; i++) done = (await world.finalize()).body.finalized === true;
  t.ok(done, 'the RoutedIP finalized with its issuer still there');
  t.same(world.cloud.snapshot(ACCOUNT).ips, [], 'Delete policy: the cloud ends clean');
  held = await issuerHook(world.app, issuer('cloud', world.issuerSpec), [], true);
  t.equal(held.body.finalized, true, 'then the issuer is let go');
});

/** A ClusterRoutedIPIssuer (cluster-scoped: no namespace). */
const clusterIssuer = (name: string, spec: RoutedIPIssuerObject['spec']): RoutedIPIssuerObject => ({
  apiVersion: 'routedip.io/v1alpha1',
  kind: 'ClusterRoutedIPIssuer',
  metadata: { name, uid: `uid-cluster-${name}`, generation: 1 },
  spec,
});
const inNamespace = (o: RoutedIPObject, namespace: string): RoutedIPObject => ({ ...o, metadata: { ...o.metadata, namespace, uid: `uid-${namespace}-${o.metadata.name}` } });
const byCluster = (name: string) => ({ issuerRef: { name, kind: 'ClusterRoutedIPIssuer' as const } });

async function clusterIssuerHook(app: FastifyInstance, parent: RoutedIPIssuerObject, routedIPs: RoutedIPObject[], secrets: Secret[] = [], finalizing = false) {
  const res = await app.inject({
    method: 'POST',
    url: finalizing ? '/clusterissuer/finalize' : '/clusterissuer/sync',
    payload: { parent, children: {}, related: { 'RoutedIP.routedip.io/v1alpha1': keyed(routedIPs), 'Secret.v1': keyed(secrets) }, finalizing },
  });
  return { code: res.statusCode, body: res.json() as { status: RoutedIPIssuerStatus; children: unknown[]; finalized?: boolean; resyncAfterSeconds?: number } };
}

t.test('ClusterRoutedIPIssuer: the same status, counting RoutedIPs of every namespace', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const validateCluster = schemaValidator(readDoc('manifests/crds/clusterroutedipissuers.yaml', 'CustomResourceDefinition'));
  const shared = clusterIssuer('shared', { routedIPFirewallName: 'edge', memory: { firewalls: ['edge'] } });
  const users = [
    inNamespace(routedIP('a', byCluster('shared')), 'team-a'),
    inNamespace(routedIP('b', byCluster('shared')), 'team-b'),
    inNamespace(routedIP('c', { issuerRef: { name: 'shared' } }), 'team-c'), // a namespaced issuer of that name: not a user
    inNamespace(routedIP('d', byCluster('other')), 'team-a'),
  ];
  const first = await clusterIssuerHook(world.app, shared, users);
  t.equal(first.code, 200);
  t.match(first.body.status, { observedGeneration: 1, provider: 'memory', routedIPs: 2 });
  t.match(first.body.status.conditions, [{ type: 'Ready', status: 'True', reason: 'CredentialsWork' }, { type: 'FirewallFound', status: 'True', reason: 'FirewallFound' }]);
  t.match(first.body.status.conditions.find((c) => c.type === 'OrphansFound'), { status: 'Unknown', reason: 'SweepNotSupported' }, 'not swept: its RoutedIPs live in many namespaces');
  t.ok(validateCluster({ ...shared, status: first.body.status }), `the CRD accepts the status: ${errorLines(validateCluster).join('; ') || 'valid'}`);
  t.equal(first.body.resyncAfterSeconds, 300);
  const missing = await clusterIssuerHook(world.app, clusterIssuer('nofw', { routedIPFirewallName: 'absent', memory: {} }), []);
  t.match(missing.body.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'FirewallFound', status: 'False', reason: 'FirewallNotFound' }]);
  t.match((await clusterIssuerHook(world.app, clusterIssuer('bad', {}), [])).body.status.conditions, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec' }]);
  // The namespaced controller, handed the same object, would count the namespaced users only.
  t.equal((await issuerHook(world.app, { ...shared, metadata: { ...shared.metadata, namespace: 'team-c' } }, users)).body.status.routedIPs, 1);
});

t.test('ClusterRoutedIPIssuer: its Secrets are read from the operator namespace, never the RoutedIPs\' ones', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const doShared = clusterIssuer('do', { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api', key: 'token' } } });
  const elsewhere = { ...secret('do-api', { token: 'x' }), metadata: { ...secret('do-api', { token: 'x' }).metadata, namespace: 'team-a' } };
  const res = await clusterIssuerHook(world.app, doShared, [], [elsewhere]);
  t.equal(res.code, 200);
  t.match(res.body.status.conditions[0], { type: 'Ready', status: 'False' }, 'a Secret of another namespace is not used');
  t.notMatch(JSON.stringify(res.body.status), /team-a/);
});

t.test('ClusterRoutedIPIssuer: a deleted one is held until the last RoutedIP of any namespace is gone', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const shared = clusterIssuer('shared', { memory: {} });
  const users = [inNamespace(routedIP('a', byCluster('shared')), 'team-a'), inNamespace(routedIP('b', byCluster('shared')), 'team-b')];
  const held = await clusterIssuerHook(world.app, { ...shared, status: { provider: 'memory' } }, users, [], true);
  t.equal(held.body.finalized, false);
  t.equal(held.body.resyncAfterSeconds, 30);
  t.match(held.body.status, { provider: 'memory', routedIPs: 2 });
  t.match(held.body.status.conditions[0], { type: 'Ready', status: 'False', reason: 'Deleting', message: /ClusterRoutedIPIssuer shared is kept until 2 RoutedIPs using it are gone: team-a\/a, team-b\/b/ });
  const released = await clusterIssuerHook(world.app, shared, [inNamespace(routedIP('c', { issuerRef: { name: 'shared' } }), 'team-a')], [], true);
  t.equal(released.body.finalized, true, 'a namespaced issuer\'s user does not hold the cluster issuer');
});

t.test('a labelled Secret of the operator namespace is held for the RoutedIPs of its ClusterRoutedIPIssuers', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const doShared = clusterIssuer('do', { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api', key: 'token' } } });
  const deleting = (s: Secret, namespace: string): Secret => ({ ...s, metadata: { ...s.metadata, namespace, deletionTimestamp: 'x' } });
  const token = secret('do-api', { token: 'x' });
  const user = inNamespace(routedIP('a', byCluster('do')), 'team-a');
  const finalize = async (object: Secret, routedIPs: RoutedIPObject[], clusterIssuers: RoutedIPIssuerObject[]) => {
    const res = await world.app.inject({
      method: 'POST',
      url: '/secret/finalize',
      payload: { object, attachments: {}, related: { 'ClusterRoutedIPIssuer.routedip.io/v1alpha1': Object.fromEntries(clusterIssuers.map((i) => [i.metadata.name, i])), 'RoutedIP.routedip.io/v1alpha1': keyed(routedIPs) }, finalizing: true },
    });
    return res.json() as { finalized?: boolean; resyncAfterSeconds?: number };
  };
  const held = await finalize(deleting(token, 'routedip-system'), [user], [doShared]);
  t.equal(held.finalized, false, 'held while a RoutedIP of another namespace uses its cluster issuer');
  t.equal(held.resyncAfterSeconds, 30);
  t.equal((await finalize(deleting(token, 'routedip-system'), [], [doShared])).finalized, true, 'released once no RoutedIP uses it');
  t.equal((await finalize(deleting(token, 'team-b'), [user], [doShared])).finalized, true, 'the same name in another namespace is not the cluster issuer\'s');
  t.equal((await finalize(deleting(secret('other', {}), 'routedip-system'), [user], [doShared])).finalized, true, 'a Secret the cluster issuer does not name');

  // Customize asks for what the hold reads: cluster issuers and every RoutedIP, for the operator namespace only.
  const customize = async (namespace: string) =>
    ((await world.app.inject({ method: 'POST', url: '/secret/customize', payload: { parent: { ...token, metadata: { ...token.metadata, namespace } } } })).json() as { relatedResources: unknown[] }).relatedResources;
  t.same(await customize('routedip-system'), [
    { apiVersion: 'routedip.io/v1alpha1', resource: 'routedipissuers', namespace: 'routedip-system' },
    { apiVersion: 'routedip.io/v1alpha1', resource: 'clusterroutedipissuers' },
    { apiVersion: 'routedip.io/v1alpha1', resource: 'routedips' },
  ]);
  t.same(await customize(NAMESPACE), [
    { apiVersion: 'routedip.io/v1alpha1', resource: 'routedipissuers', namespace: NAMESPACE },
    { apiVersion: 'routedip.io/v1alpha1', resource: 'routedips', namespace: NAMESPACE },
  ]);
});

t.test('the cluster issuer controller relates every namespace\'s RoutedIPs and the operator namespace\'s labelled Secrets', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const res = await world.app.inject({ method: 'POST', url: '/clusterissuer/customize', payload: { parent: clusterIssuer('shared', { memory: {} }) } });
  t.same((res.json() as { relatedResources: unknown[] }).relatedResources, [
    { apiVersion: 'routedip.io/v1alpha1', resource: 'routedips' },
    { apiVersion: 'v1', resource: 'secrets', namespace: 'routedip-system', labelSelector: { matchExpressions: [{ key: 'routedip.io/issuer', operator: 'Exists' }] } },
  ]);
});
