/**
 * What the API server itself refuses (the CRDs' schemas and CEL rules), and what a user sees
 * when a RoutedIP names an issuer that does not exist.
 */
import t, { type Test } from 'tap';
import { RoutedIPIssuerSpecSchema, type CelRule } from '../../../src/schemas/routed-ip.js';
import { connect, type Answer } from '../kube.js';
import { condition, issuer, routedIP } from '../objects.js';
import { Runbook } from '../runbook.js';

const kube = connect(t);
if (kube) {
  const ns = 'e2e-api';
  const run = new Runbook(kube, ns);
  const memory = { memory: { firewalls: ['ingress-public'] } };
  const rejected = (t: Test, a: Answer, message: RegExp) => {
    t.equal(a.code, 422, `HTTP 422 (${a.body?.message})`);
    t.match(a.body?.message, message);
  };

  t.before(async () => {
    await run.begin(['api-a']);
    await run.apply(issuer(ns, 'memory', memory));
  });

  t.test('an issuer with two provider blocks is rejected (CEL)', async (t) => {
    const a = await kube.create(issuer(ns, 'two', { ...memory, aws: { region: 'us-east-1' } }));
    // The message is the schema's own CEL rule message (it names every provider there is).
    const rules = RoutedIPIssuerSpecSchema['x-kubernetes-validations'] as CelRule[];
    const oneProvider = rules.find((r) => r.rule.includes('.size() == 1'));
    t.ok(oneProvider, 'the issuer schema has the one-provider CEL rule');
    t.equal(a.code, 422, `HTTP 422 (${a.body?.message})`);
    t.ok(String(a.body?.message).includes(oneProvider?.message ?? '\u0000'), `the message is the rule's: ${oneProvider?.message}`);
  });

  t.test('an issuer with an unknown reclaim policy is rejected (schema enum)', async (t) => {
    rejected(t, await kube.create(issuer(ns, 'bad-policy', { ...memory, routedIPReclaimPolicy: 'Destroy' })), /routedIPReclaimPolicy/);
  });

  t.test('a RoutedIP without issuerRef is rejected (required)', async (t) => {
    rejected(t, await kube.create({ ...routedIP(ns, 'no-issuer', {}), spec: {} }), /issuerRef/);
  });

  t.test('a RoutedIP whose address is not an IPv4 address is rejected', async (t) => {
    rejected(t, await kube.create(routedIP(ns, 'bad-address', { issuerRef: { name: 'memory' }, address: 'not-an-ip' })), /address/);
  });

  t.test("a RoutedIP's issuerRef cannot be changed (CEL transition rule)", async (t) => {
    await run.apply(routedIP(ns, 'fixed', { issuerRef: { name: 'memory' } }));
    const a = await kube.call('PATCH', kube.path('RoutedIP', ns, 'fixed'), { spec: { issuerRef: { name: 'other' } } }, 'application/merge-patch+json');
    rejected(t, a, /issuerRef is immutable/);
    await run.deleteAndWait('RoutedIP', 'fixed');
  });

  t.test('a RoutedIP naming a missing issuer says so in its status', async (t) => {
    await run.apply(routedIP(ns, 'orphan', { issuerRef: { name: 'nope' } }));
    const rip = await run.until('orphan', 'IssuerReady=False', (r) => condition(r, 'IssuerReady')?.status === 'False');
    t.equal(condition(rip, 'IssuerReady')?.reason, 'IssuerNotFound');
    t.equal(condition(rip, 'Ready')?.status, 'False');
    t.match(condition(rip, 'IssuerReady')?.message, /nope/);
    // Created later, the issuer is picked up without touching the RoutedIP.
    await run.apply(issuer(ns, 'nope', memory));
    await run.ready('orphan');
    await run.deleteAndWait('RoutedIP', 'orphan');
  });
}
