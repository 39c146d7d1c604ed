/**
 * The webhook enforces the CRDs' limits (issue 7 item 2): the same schema object validates the
 * hooks' input and is the CRD, so at every boundary the API server (the committed CRD, checked
 * by ajv as a structural schema) and the service agree; and hostile sizes become a condition or a
 * 400, never seconds of work.
 */
import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import { RoutedIPIssuerSpecSchema, RoutedIPSpecSchema, type RoutedIPIssuerSpec } from '../../src/schemas/routed-ip.js';
import { condition, ScriptedWorld } from '../hooks/world.js';
import { crdSchema, readDoc, schemaValidator, type Json } from '../manifests/k8s-schema.js';

const crd = {
  issuer: schemaValidator(readDoc('manifests/crds/routedipissuers.yaml', 'CustomResourceDefinition')),
  routedIP: schemaValidator(readDoc('manifests/crds/routedips.yaml', 'CustomResourceDefinition')),
};
const wrap = (kind: string, spec: Json) => ({ apiVersion: 'routedip.io/v1alpha1', kind, metadata: { name: 'x' }, spec });
const name = (n: number, c = 'a') => c.repeat(n);

/** Issuer specs at and just past each limit. */
const issuerCases: [string, Json][] = [
  ['64 firewalls of 255 characters', { memory: { firewalls: Array.from({ length: 64 }, (_, i) => `${i}${name(254 - String(i).length)}z`) } }],
  ['65 firewalls', { memory: { firewalls: Array.from({ length: 65 }, (_, i) => `fw${i}`) } }],
  ['a 256-character firewall name', { routedIPFirewallName: name(256), memory: {} }],
  ['a 255-character firewall name', { routedIPFirewallName: name(255), memory: {} }],
  ['a firewall name with a newline', { routedIPFirewallName: 'a\nb', memory: {} }],
  ['64 source ranges', { firewallSourceRanges: Array.from({ length: 64 }, (_, i) => `10.${i}.0.0/16`), memory: {} }],
  ['65 source ranges', { firewallSourceRanges: Array.from({ length: 65 }, (_, i) => `10.${i}.0.0/16`), memory: {} }],
  ['a source range that is no CIDR', { firewallSourceRanges: ['10.0.0.0/33'], memory: {} }],
  ['a 2048-character endpoint', { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 's' }, endpoint: `http://${name(2041)}` } }],
  ['a 2049-character endpoint', { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 's' }, endpoint: `http://${name(2042)}` } }],
  ['a Secret name of 254 characters', { digitalocean: { region: 'nyc3', tokenSecretRef: { name: name(254) } } }],
  ['a Secret key with a slash', { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 's', key: 'a/b' } } }],
  ['an unknown reclaim policy', { routedIPReclaimPolicy: 'Orphan', memory: {} }],
  ['an AWS region that is no region', { aws: { region: 'Virginia' } }],
  ['a Hetzner location', { hetzner: { location: 'fsn1', tokenSecretRef: { name: 's', key: 'token' } } }],
  ['a Hetzner location of 16 characters', { hetzner: { location: name(16), tokenSecretRef: { name: 's' } } }],
  ['a Hetzner location of 17 characters', { hetzner: { location: name(17), tokenSecretRef: { name: 's' } } }],
  ['a Hetzner location in capitals', { hetzner: { location: 'FSN1', tokenSecretRef: { name: 's' } } }],
  ['a Hetzner location ending in a dash', { hetzner: { location: 'fsn-', tokenSecretRef: { name: 's' } } }],
  ['a Hetzner issuer without a token Secret', { hetzner: { location: 'fsn1' } }],
  ['a 2049-character Hetzner endpoint', { hetzner: { location: 'fsn1', tokenSecretRef: { name: 's' }, endpoint: `http://${name(2042)}` } }],
  ['a Hetzner and a memory block', { hetzner: { location: 'fsn1', tokenSecretRef: { name: 's' } }, memory: {} }],
];

const routedIPCases: [string, Json][] = [
  ['an issuer name of 253 characters', { issuerRef: { name: name(253) } }],
  ['an issuer name of 254 characters', { issuerRef: { name: name(254) } }],
  ['a Service name of 64 characters', { issuerRef: { name: 'i' }, serviceRef: { name: name(64) } }],
  ['65 label requirements', { issuerRef: { name: 'i' }, nodeSelector: { matchExpressions: Array.from({ length: 65 }, () => ({ key: 'k', operator: 'Exists' })) } }],
  ['257 values', { issuerRef: { name: 'i' }, nodeSelector: { matchExpressions: [{ key: 'k', operator: 'In', values: Array.from({ length: 257 }, (_, i) => `v${i}`) }] } }],
  ['65 match labels', { issuerRef: { name: 'i' }, nodeSelector: { matchLabels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) } }],
  ['an IPv6 address', { issuerRef: { name: 'i' }, address: '2001:db8::1' }],
  ['16 node preferences', { issuerRef: { name: 'i' }, nodePreference: Array.from({ length: 16 }, () => ({ weight: 1, preference: { matchExpressions: [{ key: 'k', operator: 'Exists' }] } })) }],
  ['17 node preferences', { issuerRef: { name: 'i' }, nodePreference: Array.from({ length: 17 }, () => ({ weight: 1, preference: {} })) }],
  ['a preference of weight 100', { issuerRef: { name: 'i' }, nodePreference: [{ weight: 100, preference: {} }] }],
  ['a preference of weight 101', { issuerRef: { name: 'i' }, nodePreference: [{ weight: 101, preference: {} }] }],
  ['a preference of weight 0', { issuerRef: { name: 'i' }, nodePreference: [{ weight: 0, preference: {} }] }],
  ['17 requirements in a preference', { issuerRef: { name: 'i' }, nodePreference: [{ weight: 1, preference: { matchExpressions: Array.from({ length: 17 }, () => ({ key: 'k', operator: 'Exists' })) } }] }],
  ['a Gt preference', { issuerRef: { name: 'i' }, nodePreference: [{ weight: 1, preference: { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] } }] }],
  ['a field preference on metadata.name', { issuerRef: { name: 'i' }, nodePreference: [{ weight: 1, preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] } }] }],
  ['a field preference on another field', { issuerRef: { name: 'i' }, nodePreference: [{ weight: 1, preference: { matchFields: [{ key: 'spec.providerID', operator: 'In', values: ['x'] }] } }] }],
  ['a field preference with two values', { issuerRef: { name: 'i' }, nodePreference: [{ weight: 1, preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a', 'b'] }] } }] }],
  ['a failover grace of an hour', { issuerRef: { name: 'i' }, failover: { graceSeconds: 3600 } }],
  ['a failover grace of an hour and a second', { issuerRef: { name: 'i' }, failover: { graceSeconds: 3601 } }],
  ['a negative failover grace', { issuerRef: { name: 'i' }, failover: { graceSeconds: -1 } }],
];

t.test('the service and the API server accept exactly the same specs at the limits', async (t) => {
  for (const [what, spec] of issuerCases) t.equal(Value.Check(RoutedIPIssuerSpecSchema, spec), crd.issuer(wrap('RoutedIPIssuer', spec)), `issuer: ${what}`);
  for (const [what, spec] of routedIPCases) t.equal(Value.Check(RoutedIPSpecSchema, spec), crd.routedIP(wrap('RoutedIP', spec)), `RoutedIP: ${what}`);
  const accepted = [...issuerCases, ...routedIPCases].filter(([, s]) => Value.Check('issuerRef' in s ? RoutedIPSpecSchema : RoutedIPIssuerSpecSchema, s)).length;
  t.ok(accepted >= 5 && accepted <= issuerCases.length + routedIPCases.length - 10, 'the table has both sides of the limits');
  t.equal(crdSchema(readDoc('manifests/crds/routedipissuers.yaml', 'CustomResourceDefinition')).properties.spec.properties.firewallSourceRanges.maxItems, 64);
});

t.test('an issuer past the CRD limits gets a condition naming the field, without the work', async (t) => {
  for (const [field, spec, limit] of [
    ['spec.memory.firewalls', { memory: { firewalls: Array.from({ length: 20_000 }, (_, i) => `fw-${i}`) } }, 'at most 64 items'],
    ['spec.firewallSourceRanges', { memory: {}, firewallSourceRanges: Array.from({ length: 40_000 }, (_, i) => `10.${i % 256}.${i >> 8}.0/24`) }, 'at most 64 items'],
    ['spec.routedIPFirewallName', { memory: {}, routedIPFirewallName: name(100_000) }, 'at most 255 characters'],
    ['spec.hetzner.location', { hetzner: { location: name(100_000), tokenSecretRef: { name: 's' } } }, 'at most 16 characters'],
  ] as const) {
    const w = await new ScriptedWorld().start(t);
    w.issuerSpec = spec as unknown as RoutedIPIssuerSpec;
    const res = await w.sync();
    t.equal(res.statusCode, 200, field);
    const issuerReady = condition(res.body.status, 'IssuerReady');
    t.equal(issuerReady?.reason, 'InvalidIssuerSpec', field);
    t.match(issuerReady?.message, `${field}: must be ${limit}`, field);
    t.ok(res.raw.length < 16_384, `${field}: the status does not echo the input (${res.raw.length} bytes)`);
    t.same(w.cloud.calls(), [], `${field}: no cloud call`);
  }
});

t.test('a reclaim policy outside the enum is named with the values it may take', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.issuerSpec = { routedIPReclaimPolicy: 'Sometimes', memory: {} } as unknown as RoutedIPIssuerSpec;
  t.match(condition((await w.sync()).body.status, 'IssuerReady')?.message, 'spec.routedIPReclaimPolicy: must be Retain or Delete');
});

t.test('a RoutedIP spec past the CRD limits is refused, not copied into status', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.parent = { ...w.parent, spec: { ...w.parent.spec, issuerRef: { name: name(100_000) } } } as typeof w.parent;
  const res = await w.sync();
  t.equal(res.statusCode, 200, 'a stored spec past the limits is a condition, not a 400');
  t.match(condition(res.body.status, 'Ready'), { status: 'False', reason: 'InvalidSpec', message: /spec\.issuerRef\.name: must be at most 253 characters/ });
  t.ok(res.raw.length < 16_384, `the answer does not echo the 100,000-character name (${res.raw.length} bytes)`);
});

t.test('sibling RoutedIPs are read loosely: one odd sibling does not fail this sync', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.siblings = [{ ...w.parent, metadata: { ...w.parent.metadata, name: 'odd', uid: 'uid-odd' }, spec: { issuerRef: {} } } as unknown as typeof w.parent];
  const res = await w.sync();
  t.equal(res.statusCode, 200);
  t.equal(condition(res.body.status, 'Ready')?.status, 'True');
});
