/**
 * What the service really answers fits the CRD: each status returned by /sync and /finalize
 * (with the observedGeneration Metacontroller adds) passes the RoutedIP schema, so the API server
 * neither rejects nor prunes it, and condition types are unique (the list is keyed by type).
 * The examples themselves go through /sync and converge on the memory cloud.
 */
import t, { type Test } from 'tap';
import { MemoryCloud } from '../../src/issuers/memory/cloud.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import type { RoutedIPStatus } from '../../src/schemas/routed-ip.js';
import { endpointSlice, node, service, syncRequest, withLabels } from '../fixtures/k8s.js';
import { buildTestApp, syncRequestSettled } from '../helpers/app.js';
import { ScriptedWorld } from '../hooks/world.js';
import { errorLines, readDoc, schemaValidator, type Json } from './k8s-schema.js';

const validate = schemaValidator(readDoc('manifests/crds/routedips.yaml', 'CustomResourceDefinition'));
const example = readDoc('manifests/examples/routedip.yaml', 'RoutedIP');
const memoryIssuer = readDoc('manifests/examples/issuer-memory.yaml', 'RoutedIPIssuer');

/** Asserts `status` is what the API server would store unchanged. */
function storable(t: Test, status: RoutedIPStatus, what: string) {
  const object = { ...example, status: { ...status, observedGeneration: 1 } };
  t.ok(validate(object), `${what}: ${errorLines(validate).join('; ') || 'status accepted'}`);
  const types = status.conditions.map((c) => c.type);
  t.same(types, [...new Set(types)], `${what}: condition types are unique`);
}

t.test('statuses across a RoutedIP life fit the CRD', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const first = await world.sync();
  t.equal(first.statusCode, 200);
  storable(t, first.body.status, 'converged');
  t.ok(first.body.status.firewall, 'the firewall part is exercised');
  world.endpointsOn = ['n2'];
  storable(t, (await world.sync()).body.status, 'failover');
  storable(t, (await world.finalize()).body.status, 'finalize');
});

t.test('failure statuses fit the CRD', async (t) => {
  const missingFirewall = await new ScriptedWorld().start(t);
  missingFirewall.issuerSpec = { ...missingFirewall.issuerSpec, memory: { firewalls: [] } };
  storable(t, (await missingFirewall.sync()).body.status, 'firewall not found');

  const invalid = await new ScriptedWorld().start(t);
  invalid.issuerSpec = { ...invalid.issuerSpec, digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'x' } } };
  storable(t, (await invalid.sync()).body.status, 'invalid issuer');

  const noNodes = await new ScriptedWorld().start(t);
  noNodes.endpointsOn = [];
  storable(t, (await noNodes.sync()).body.status, 'no eligible node');
});

t.test('the RoutedIP and memory issuer examples converge through /sync', async (t) => {
  const { app } = await buildTestApp(t, { registry: createIssuerRegistry({ memoryCloud: new MemoryCloud() }) });
  const ingress = withLabels({ 'node-role.kubernetes.io/ingress': '' });
  const parent = { ...example, metadata: { ...example.metadata, uid: 'uid-example', generation: 1 } };
  const request = syncRequest({
    parent,
    issuers: [{ ...memoryIssuer, metadata: { ...memoryIssuer.metadata, uid: 'uid-issuer' } }],
    nodes: [node('n1', ingress), node('n2', ingress), node('n3')],
    services: [service(example.spec.serviceRef.name, [443])],
    endpointSlices: [endpointSlice(example.spec.serviceRef.name, [{ nodeName: 'n1' }, { nodeName: 'n2' }, { nodeName: 'n3' }], [443])],
  });
  const answer = await syncRequestSettled(app, request);
  t.equal(answer.statusCode, 200);
  const status = answer.body.status;
  storable(t, status, 'example');
  t.match(status.conditions.find((c) => c.type === 'Ready'), { status: 'True' }, JSON.stringify(status.conditions));
  t.ok(['n1', 'n2'].includes(status.node ?? ''), 'held by a node the example nodeSelector allows');

  // The customize answer for the example obeys Metacontroller's rule-shape checks.
  const res = await app.inject({ method: 'POST', url: '/customize', payload: { parent } });
  t.equal(res.statusCode, 200);
  const rules = (res.json() as { relatedResources: Json[] }).relatedResources;
  t.ok(rules.some((r) => r.resource === 'nodes' && r.labelSelector), 'nodes narrowed by the nodeSelector');
  for (const r of rules) t.notOk(r.names && (r.labelSelector || r.namespaceSelector), `${r.resource}: names are not combined with a selector`);
});
