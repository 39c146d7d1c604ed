/**
 * Every example validates against its CRD the way the API server would take it (schema with
 * strict fields, then the CEL rules), and the rules reject what the contract forbids: two
 * providers, a bad reclaim policy, switching a RoutedIP between created and adopted, and so on.
 */
import { readdirSync } from 'node:fs';
import t from 'tap';
import { ISSUER_SECRET_LABEL } from '../../src/schemas/routed-ip.js';
import { celViolations, crdSchema, errorLines, readDoc, readDocs, schemaValidator, type Json } from './k8s-schema.js';

const crds: Record<string, Json> = {
  RoutedIP: readDoc('manifests/crds/routedips.yaml', 'CustomResourceDefinition'),
  RoutedIPIssuer: readDoc('manifests/crds/routedipissuers.yaml', 'CustomResourceDefinition'),
};
const validators = Object.fromEntries(Object.entries(crds).map(([kind, crd]) => [kind, schemaValidator(crd)]));

/** Schema errors then CEL violations, as one list: empty = the API server accepts `obj`. */
function problems(obj: Json, old?: Json): string[] {
  const kind: string = obj.kind;
  const validate = validators[kind];
  if (!validate) throw new Error(`no CRD for ${kind}`);
  if (!validate(obj)) return errorLines(validate);
  return celViolations(crdSchema(crds[kind]), obj, old);
}

const files = readdirSync(new URL('../../manifests/examples/', import.meta.url)).filter((f) => f.endsWith('.yaml'));
const examples = files.flatMap((f) => readDocs(`manifests/examples/${f}`).map((doc) => ({ file: f, doc })));
const ours = examples.filter((e) => e.doc.apiVersion === 'routedip.io/v1alpha1');
const issuerExamples = ours.filter((e) => e.doc.kind === 'RoutedIPIssuer');

t.test('every RoutedIP and RoutedIPIssuer example is accepted', async (t) => {
  t.ok(ours.length >= 5, 'examples found');
  for (const { file, doc } of ours) t.same(problems(doc), [], `${file}: ${doc.kind} ${doc.metadata.name}`);
});

t.test('there is one issuer example per provider, each referring to a labelled Secret', async (t) => {
  const providers = issuerExamples.map((e) => ['digitalocean', 'aws', 'hetzner', 'memory'].filter((p) => p in e.doc.spec)).flat().sort();
  t.same(providers, ['aws', 'digitalocean', 'hetzner', 'memory']);
  const secrets = examples.filter((e) => e.doc.kind === 'Secret');
  for (const { doc } of issuerExamples) {
    const ref = doc.spec.digitalocean?.tokenSecretRef?.name ?? doc.spec.hetzner?.tokenSecretRef?.name ?? doc.spec.aws?.credentialsSecretRef?.name;
    if (!ref) continue;
    const secret = secrets.find((s) => s.doc.metadata.name === ref && s.doc.metadata.namespace === doc.metadata.namespace);
    t.ok(secret, `${doc.metadata.name}: Secret ${ref} is in the examples`);
    t.ok(secret?.doc.metadata.labels?.[ISSUER_SECRET_LABEL], `${ref} carries ${ISSUER_SECRET_LABEL}`);
    const key = doc.spec.digitalocean?.tokenSecretRef?.key ?? doc.spec.hetzner?.tokenSecretRef?.key;
    if (key) t.ok(key in (secret?.doc.stringData ?? {}), `${ref} has key ${key}`);
  }
});

t.test('every RoutedIP example refers to an issuer example in its namespace', async (t) => {
  for (const { file, doc } of ours.filter((e) => e.doc.kind === 'RoutedIP')) {
    t.ok(
      issuerExamples.some((i) => i.doc.metadata.name === doc.spec.issuerRef.name && i.doc.metadata.namespace === doc.metadata.namespace),
      `${file}: issuer ${doc.spec.issuerRef.name}`,
    );
  }
});

const memoryIssuer = () => ({ apiVersion: 'routedip.io/v1alpha1', kind: 'RoutedIPIssuer', metadata: { name: 'm' }, spec: { memory: {} } as Json });
const doIssuer = () => ({ ...memoryIssuer(), spec: { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api', key: 'token' } } } as Json });
const routedIP = (spec: Json = {}) => ({ apiVersion: 'routedip.io/v1alpha1', kind: 'RoutedIP', metadata: { name: 'r' }, spec: { issuerRef: { name: 'cloud' }, ...spec } });

t.test('RoutedIPIssuer: exactly one provider block', async (t) => {
  const two = doIssuer();
  two.spec.memory = {};
  t.match(problems(two), [/exactly one of spec.digitalocean, spec.aws, spec.hetzner or spec.memory/]);
  t.match(problems({ ...memoryIssuer(), spec: { dryRun: true } }), [/exactly one of/]);
  t.same(problems(memoryIssuer()), []);
});

t.test('RoutedIPIssuer: field constraints', async (t) => {
  const bad = (spec: Json) => problems({ ...memoryIssuer(), spec: { memory: {}, ...spec } });
  t.match(bad({ routedIPReclaimPolicy: 'Orphan' }), [/must be equal to one of the allowed values/]);
  t.same(bad({ routedIPReclaimPolicy: 'Delete' }), []);
  t.match(bad({ firewallSourceRanges: ['0.0.0.0/0', '10.0.0.0/33'] }), [/must match format "cidr"/]);
  t.match(bad({ firewallSourceRanges: ['not-a-cidr'] }), [/must match format "cidr"/]);
  t.match(bad({ firewallSourceRanges: [] }), [/must NOT have fewer than 1 items/]);
  t.same(bad({ firewallSourceRanges: ['0.0.0.0/0', '::/0', '2001:db8::/32'] }), []);
  t.match(bad({ routedIPFirewallName: ' leading-space' }), [/must match pattern/]);
  t.match(bad({ routedIPFirewallName: 'a\nb' }), [/must match pattern/]);
  t.match(bad({ routedIPFirewallName: 'trailing ' }), [/must match pattern/]);
  t.same(bad({ routedIPFirewallName: 'ingress-public' }), []);
  t.same(bad({ routedIPFirewallName: 'sg name (prod)' }), [], 'AWS security group names may hold spaces and brackets');
  t.match(bad({ reclaimPolicy: 'Delete' }), [/must NOT have additional properties \(reclaimPolicy\)/], 'a misspelt field is rejected, not pruned');
  t.match(problems({ ...doIssuer(), spec: { digitalocean: { region: 'nyc3' } } }), [/must have required property 'tokenSecretRef'/]);
  t.match(problems({ ...doIssuer(), spec: { aws: { region: 'Virginia' } } }), [/region: must match pattern/]);
});

t.test('RoutedIPIssuer: the provider and the region never change', async (t) => {
  const old = doIssuer();
  const moved = doIssuer();
  moved.spec.digitalocean.region = 'ams3';
  t.match(problems(moved, old), [/spec.digitalocean.region is immutable/]);
  const switched = memoryIssuer();
  t.match(problems(switched, old), [/the provider \(digitalocean, aws, hetzner or memory\) cannot be changed/]);
  const tuned = doIssuer();
  tuned.spec.dryRun = true;
  tuned.spec.routedIPReclaimPolicy = 'Delete';
  tuned.spec.digitalocean.tokenSecretRef = { name: 'do-api-rotated', key: 'token' };
  t.same(problems(tuned, old), [], 'policy, dry run and credentials may change');
});

t.test('RoutedIPIssuer: routedIPFirewallName may be set once, never changed or removed (its entries would be orphaned)', async (t) => {
  const withFirewall = (name?: string, sources?: string[]) => {
    const issuer = doIssuer();
    if (name !== undefined) issuer.spec.routedIPFirewallName = name;
    if (sources) issuer.spec.firewallSourceRanges = sources;
    return issuer;
  };
  t.match(problems(withFirewall('other'), withFirewall('ingress-public')), [/spec.routedIPFirewallName cannot be changed or removed/]);
  t.match(problems(withFirewall(), withFirewall('ingress-public')), [/spec.routedIPFirewallName cannot be changed or removed/]);
  t.same(problems(withFirewall('ingress-public'), withFirewall()), [], 'setting it the first time orphans nothing');
  t.same(problems(withFirewall('ingress-public', ['203.0.113.0/24']), withFirewall('ingress-public')), [], 'sources may change: narrowing removes what is no longer wanted');
});

t.test('RoutedIP: address and issuerRef are fixed at creation', async (t) => {
  t.same(problems(routedIP({ address: '203.0.113.10' })), []);
  t.match(problems(routedIP({ address: '203.0.113.300' })), [/must match format "ipv4"/]);
  t.match(problems(routedIP({ address: '2001:db8::1' })), [/must match format "ipv4"/]);
  t.match(problems(routedIP({ address: '203.0.113.11' }), routedIP({ address: '203.0.113.10' })), [/spec.address is immutable/]);
  t.match(problems(routedIP({ address: '203.0.113.10' }), routedIP()), [/spec.address cannot be added or removed after creation/], 'created → adopted');
  t.match(problems(routedIP(), routedIP({ address: '203.0.113.10' })), [/spec.address cannot be added or removed after creation/], 'adopted → created');
  t.match(problems(routedIP({ issuerRef: { name: 'other' } }), routedIP()), [/spec.issuerRef is immutable/]);
  t.same(problems(routedIP({ serviceRef: { name: 'ingress-nginx' }, nodeSelector: { matchLabels: { a: 'b' } } }), routedIP()), [], 'serviceRef and nodeSelector may change');
  t.match(problems(routedIP({ issuerRef: undefined })), [/must have required property 'issuerRef'/]);
});

t.test('RoutedIP: spec.ports are node-facing TCP/UDP ports', async (t) => {
  t.same(problems(routedIP({ ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] })), []);
  t.match(problems(routedIP({ ports: [{ port: 0 }] })), [/must be >= 1/]);
  t.match(problems(routedIP({ ports: [{ port: 80, protocol: 'SCTP' }] })), [/must be equal to one of the allowed values/]);
});

t.test('RoutedIP: nodeSelector expressions are well formed', async (t) => {
  const sel = (e: Json) => problems(routedIP({ nodeSelector: { matchExpressions: [e] } }));
  t.same(sel({ key: 'a', operator: 'In', values: ['x'] }), []);
  t.same(sel({ key: 'a', operator: 'DoesNotExist' }), []);
  t.match(sel({ key: 'a', operator: 'In' }), [/values must be non-empty for In and NotIn/]);
  t.match(sel({ key: 'a', operator: 'Exists', values: ['x'] }), [/empty for Exists and DoesNotExist/]);
  t.match(sel({ key: 'a', operator: 'Gt', values: ['1'] }), [/must be equal to one of the allowed values/]);
});

t.test('the status the service returns is accepted by the CRD', async (t) => {
  const status = {
    observedGeneration: 3,
    address: '203.0.113.7',
    provider: 'memory',
    node: 'n1',
    electedNode: 'n1',
    firewall: { id: 'fw-1', name: 'public', ports: [{ protocol: 'tcp', port: 443 }], nodes: ['n1'], addedPorts: [], addedNodes: ['n1'] },
    pendingAction: { id: 'a-1', type: 'assign', node: 'n1' },
    steps: [{ name: 'AssignRoutedIP', outcome: 'done', detail: 'assigned to n1' }],
    conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 }],
  };
  t.same(problems({ ...routedIP(), status }), []);
  t.match(problems({ ...routedIP(), status: { ...status, lastSyncedAt: 'x' } }), [/additional properties \(lastSyncedAt\)/]);
  t.match(problems({ ...routedIP(), status: { ...status, steps: [{ name: 'x', outcome: 'maybe', detail: '' }] } }), [/allowed values/]);
});
