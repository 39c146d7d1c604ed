/**
 * The CRDs against the service's schemas: the RoutedIP status schema equals RoutedIPStatusSchema
 * field by field (a field missing from the CRD would be pruned by the API server), the spec
 * schemas have the same properties as the TypeBox specs, plus names, printer columns and rules.
 */
import t from 'tap';
import { RoutedIPIssuerSpecSchema, RoutedIPSpecSchema, RoutedIPStatusSchema } from '../../src/schemas/routed-ip.js';
import { celRules, crdSchema, readDoc, type Json } from './k8s-schema.js';

const routedIPs = readDoc('manifests/crds/routedips.yaml', 'CustomResourceDefinition');
const issuers = readDoc('manifests/crds/routedipissuers.yaml', 'CustomResourceDefinition');

/** TypeBox output or CRD schema, reduced to what both can say: types, properties, required, constraints. */
function canonical(input: Json, constraints = true): Json {
  const s = JSON.parse(JSON.stringify(input)) as Json; // drops TypeBox's symbol keys
  if (Array.isArray(s.anyOf) && s.anyOf.every((b: Json) => b.const !== undefined)) {
    return canonical({ type: typeof s.anyOf[0].const, enum: s.anyOf.map((b: Json) => b.const) }, constraints);
  }
  const out: Json = {};
  if (s.type !== undefined) out.type = s.type;
  if (s.const !== undefined && constraints) out.enum = [s.const];
  if (s.enum !== undefined && constraints) out.enum = [...s.enum].sort();
  if (constraints) for (const k of ['minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'format']) if (s[k] !== undefined) out[k] = s[k];
  if (s.properties) {
    out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, canonical(v, constraints)]));
    out.required = [...(s.required ?? [])].sort();
  }
  // TypeBox writes a string map as patternProperties; the CRD as additionalProperties.
  const values = s.patternProperties?.['^(.*)$'] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
  if (values) out.additionalProperties = canonical(values, constraints);
  if (s.items) out.items = canonical(s.items, constraints);
  return out;
}

t.test('RoutedIP status schema equals RoutedIPStatusSchema, field by field', async (t) => {
  const crd = crdSchema(routedIPs).properties.status;
  const service = canonical(RoutedIPStatusSchema);
  t.same(canonical(crd), service);
  // A readable failure for the commonest drift: a field added to one side only.
  t.same(Object.keys(crd.properties).sort(), Object.keys(service.properties).sort());
  t.ok(crd.properties.observedGeneration, 'observedGeneration (written by Metacontroller) is declared');
  t.same(Object.keys(crd.properties.conditions.items.properties).sort(), ['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type']);
  t.equal(crd.properties.conditions['x-kubernetes-list-type'], 'map', 'conditions are keyed by type');
  t.same(crd.properties.conditions['x-kubernetes-list-map-keys'], ['type']);
});

t.test('spec schemas have the properties, types and required fields of the TypeBox specs', async (t) => {
  t.same(canonical(crdSchema(routedIPs).properties.spec, false), canonical(RoutedIPSpecSchema, false));
  t.same(canonical(crdSchema(issuers).properties.spec, false), canonical(RoutedIPIssuerSpecSchema, false));
  t.same(crdSchema(routedIPs).required, ['spec']);
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

t.test('RoutedIPIssuer has a status subresource and the columns PROVIDER, READY, ROUTEDIPS, AGE', async (t) => {
  const version = issuers.spec.versions[0];
  t.same(version.subresources, { status: {} }, 'the issuer controller writes status');
  const shown = (version.additionalPrinterColumns as Json[]).filter((c) => c.priority === undefined).map((c) => [c.name.toUpperCase(), c.jsonPath]);
  t.same(shown, [
    ['PROVIDER', '.status.provider'],
    ['READY', '.status.conditions[?(@.type=="Ready")].status'],
    ['ROUTEDIPS', '.status.routedIPs'],
    ['AGE', '.metadata.creationTimestamp'],
  ]);
});

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
});
