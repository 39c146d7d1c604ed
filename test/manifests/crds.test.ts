/**
 * The CRDs: generated from the TypeBox schemas (one source of truth) and committed up to date;
 * names, printer columns and CEL rules where the contract needs them.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Type } from '@sinclair/typebox';
import { generatedManifests } from '../../scripts/manifests.js';
import { toStructural } from '../../src/schemas/crds.js';
import { RoutedIPIssuerSpecSchema, RoutedIPIssuerStatusSchema, RoutedIPSpecSchema, RoutedIPStatusSchema } from '../../src/schemas/routed-ip.js';
import { celRules, celViolations, crdSchema, readDoc, repoRoot, type Json } from './k8s-schema.js';

const routedIPs = readDoc('manifests/crds/routedips.yaml', 'CustomResourceDefinition');
const issuers = readDoc('manifests/crds/routedipissuers.yaml', 'CustomResourceDefinition');

t.test('the committed CRDs are what `npm run manifests` writes from the TypeBox schemas', async (t) => {
  const generated = generatedManifests();
  t.ok(generated.size >= 2, 'every CRD is generated');
  for (const [file, text] of generated) {
    const committed = existsSync(path.join(repoRoot, file)) ? readFileSync(path.join(repoRoot, file), 'utf8') : '(missing)';
    t.equal(committed, text, `${file} is up to date (run npm run manifests)`);
  }
});

t.test("the CRD schemas are the service's schemas, limits included", async (t) => {
  t.same(crdSchema(routedIPs).properties.spec, toStructural(RoutedIPSpecSchema));
  t.same(crdSchema(routedIPs).properties.status, toStructural(RoutedIPStatusSchema));
  t.same(crdSchema(issuers).properties.spec, toStructural(RoutedIPIssuerSpecSchema));
  t.same(crdSchema(routedIPs).required, ['spec']);
  const status = crdSchema(routedIPs).properties.status;
  t.ok(status.properties.observedGeneration, 'observedGeneration (written by Metacontroller) is declared');
  t.equal(status.properties.conditions['x-kubernetes-list-type'], 'map', 'conditions are keyed by type');
  t.same(status.properties.conditions['x-kubernetes-list-map-keys'], ['type']);
  const firewalls = crdSchema(issuers).properties.spec.properties.memory.properties.firewalls;
  t.equal(firewalls.maxItems, 64, 'memory.firewalls is bounded');
  t.equal(firewalls.items.maxLength, 255, 'firewall names are bounded');
});

t.test('the generator refuses what a structural schema cannot say', async (t) => {
  t.throws(() => toStructural(Type.Union([Type.String(), Type.Integer()])), /only unions of string literals/);
  t.throws(() => toStructural(Type.Unknown()), /needs a type/);
  t.same(toStructural(Type.Union([Type.Literal('a'), Type.Literal('b')])), { type: 'string', enum: ['a', 'b'] });
  t.same(toStructural(Type.Record(Type.String(), Type.String(), { maxProperties: 3 })), { type: 'object', maxProperties: 3, additionalProperties: { type: 'string' } });
});

t.test('RoutedIPIssuer spec constraints', async (t) => {
  const spec = crdSchema(issuers).properties.spec.properties;
  t.same(spec.routedIPReclaimPolicy.enum, ['Retain', 'Delete']);
  t.equal(spec.routedIPReclaimPolicy.default, 'Retain');
  t.equal(spec.firewallSourceRanges.items.format, 'cidr');
  t.ok(spec.routedIPFirewallName.pattern, 'firewall name has a pattern');
  t.equal(crdSchema(routedIPs).properties.spec.properties.address.format, 'ipv4');
});

for (const [crd, kind, plural, short] of [
  [routedIPs, 'RoutedIP', 'routedips', 'rip'],
  [issuers, 'RoutedIPIssuer', 'routedipissuers', 'ripissuer'],
] as const) {
  t.test(`${kind} CRD names, scope and version`, async (t) => {
    t.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    t.equal(crd.metadata.name, `${plural}.routedip.io`);
    t.equal(crd.spec.group, 'routedip.io');
    t.equal(crd.spec.scope, 'Namespaced');
    t.match(crd.spec.names, { kind, plural, shortNames: [short] });
    t.equal(crd.spec.versions.length, 1);
    t.match(crd.spec.versions[0], { name: 'v1alpha1', served: true, storage: true });
  });
}

t.test('RoutedIP has the status subresource Metacontroller requires and the promised columns', async (t) => {
  const version = routedIPs.spec.versions[0];
  t.same(version.subresources, { status: {} });
  const columns = (version.additionalPrinterColumns as Json[]).filter((c) => !c.priority);
  t.same(
    columns.map((c) => [c.name.toUpperCase(), c.jsonPath]),
    [
      ['ADDRESS', '.status.address'],
      ['NODE', '.status.node'],
      ['READY', '.status.conditions[?(@.type=="Ready")].status'],
      ['AGE', '.metadata.creationTimestamp'],
    ],
  );
});

for (const [kind, crd] of [['RoutedIPIssuer', issuers], ['ClusterRoutedIPIssuer', readDoc('manifests/crds/clusterroutedipissuers.yaml', 'CustomResourceDefinition')]] as const) {
  t.test(`${kind} has a status subresource, the status schema and the columns PROVIDER, READY, ROUTEDIPS, AGE`, async (t) => {
    const version = crd.spec.versions[0];
    t.same(version.subresources, { status: {} }, 'the issuer controller writes status');
    t.same(crdSchema(crd).properties.status, toStructural(RoutedIPIssuerStatusSchema), 'nothing of the status is pruned');
    const shown = (version.additionalPrinterColumns as Json[]).filter((c) => c.priority === undefined).map((c) => [c.name.toUpperCase(), c.jsonPath]);
    t.same(shown, [
      ['PROVIDER', '.status.provider'],
      ['READY', '.status.conditions[?(@.type=="Ready")].status'],
      ['ROUTEDIPS', '.status.routedIPs'],
      ['AGE', '.metadata.creationTimestamp'],
    ]);
  });
}

t.test('CEL rules are where the contract needs them, each with a message', async (t) => {
  const rip = celRules(crdSchema(routedIPs));
  const iss = celRules(crdSchema(issuers));
  for (const r of [...rip, ...iss]) t.ok(r.message && r.message.length > 20, `${r.path}: ${r.rule} has a clear message`);
  const at = (rules: typeof rip, p: string) => rules.filter((r) => r.path === p).map((r) => r.rule);
  t.same(at(rip, '/spec/address'), ['self == oldSelf']);
  t.same(at(rip, '/spec/issuerRef'), ['self == oldSelf']);
  t.same(at(rip, '/spec'), ['has(self.address) == has(oldSelf.address)']);
  t.equal(at(iss, '/spec').length, 3, 'one provider; provider never switches; firewall name never changes once set');
  t.same(at(iss, '/spec/digitalocean/region'), ['self == oldSelf']);
  t.same(at(iss, '/spec/aws/region'), ['self == oldSelf']);
  t.same(at(iss, '/spec/hetzner/location'), ['self == oldSelf']);
});

t.test('nodePreference requirements: the API server checks values per operator, as for node affinity', async (t) => {
  const spec = crdSchema(routedIPs).properties.spec;
  const withRequirement = (r: Json) => ({ issuerRef: { name: 'i' }, nodePreference: [{ weight: 1, preference: { matchExpressions: [r] } }] });
  const cases: Array<[string, Json, boolean]> = [
    ['In with values', { key: 'zone', operator: 'In', values: ['a'] }, true],
    ['In without values', { key: 'zone', operator: 'In' }, false],
    ['NotIn with an empty list', { key: 'zone', operator: 'NotIn', values: [] }, false],
    ['Exists', { key: 'zone', operator: 'Exists' }, true],
    ['Exists with values', { key: 'zone', operator: 'Exists', values: ['a'] }, false],
    ['DoesNotExist', { key: 'zone', operator: 'DoesNotExist' }, true],
    ['Gt with one integer', { key: 'cores', operator: 'Gt', values: ['8'] }, true],
    ['Lt with a negative integer', { key: 'cores', operator: 'Lt', values: ['-8'] }, true],
    ['Gt with a word', { key: 'cores', operator: 'Gt', values: ['eight'] }, false],
    ['Gt with two values', { key: 'cores', operator: 'Gt', values: ['1', '2'] }, false],
    ['Lt without values', { key: 'cores', operator: 'Lt' }, false],
  ];
  for (const [what, r, ok] of cases) t.equal(celViolations(spec, withRequirement(r)).length === 0, ok, what);
});
