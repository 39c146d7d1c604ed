/** The pure Service decoration and the label selector string parser, table-driven. */
import t from 'tap';
import { parseSelector } from '../../src/plan/label-selector.js';
import { canonicalJson, decorateService, externalDnsPrefix, SERVICE_ANNOTATIONS as A, type ServiceDecorationInput } from '../../src/plan/service-routedip.js';

t.test('parseSelector takes what kubectl -l takes, as a LabelSelector', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['', {}],
    ['a=b', { matchLabels: { a: 'b' } }],
    ['a==b, c = d', { matchLabels: { a: 'b', c: 'd' } }],
    ['a!=b', { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['b'] }] }],
    ['pool in (y, x),!spot', { matchExpressions: [{ key: 'pool', operator: 'In', values: ['x', 'y'] }, { key: 'spot', operator: 'DoesNotExist' }] }],
    ['node-role.kubernetes.io/ingress', { matchExpressions: [{ key: 'node-role.kubernetes.io/ingress', operator: 'Exists' }] }],
    ['zone notin (a)', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }],
    ['a=', { matchLabels: { a: '' } }],
  ];
  for (const [text, selector] of cases) t.same(parseSelector(text), { selector }, JSON.stringify(text));
  for (const bad of ['a in ()', 'a>1', 'a=b=c', 'a=b,a=c', '-a', 'a in (x', 'UPPER/x=y', ',']) t.ok('error' in parseSelector(bad), `${JSON.stringify(bad)} is rejected`);
});

t.test('externalDnsPrefix: "true" is the current default, a prefix is taken as is', async (t) => {
  t.equal(externalDnsPrefix('true'), 'external-dns.kubernetes.io/');
  t.equal(externalDnsPrefix('external-dns.alpha.kubernetes.io/'), 'external-dns.alpha.kubernetes.io/');
  t.equal(externalDnsPrefix('false'), undefined);
  t.equal(externalDnsPrefix('no-slash'), undefined);
  t.equal(externalDnsPrefix(undefined), undefined);
});

t.test('canonicalJson sorts keys at every level and drops undefined', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: undefined } }), '{"a":{"d":[{"x":2,"y":1}]},"b":1}');
});

const base: ServiceDecorationInput = { name: 'web', namespace: 'ns', annotations: { [A.issuer]: 'cloud' }, finalizing: false, foreign: false };
const withAttachment = (address: string, spec: Record<string, unknown> = {}) => ({
  attachment: { spec: { issuerRef: { name: 'cloud' }, serviceRef: { name: 'web' }, ...spec }, annotations: {}, address },
});

t.test('external-dns: the target follows the address, and goes with the opt-in', async (t) => {
  const on = decorateService({ ...base, annotations: { ...base.annotations, [A.externalDns]: 'external-dns.alpha.kubernetes.io/' }, ...withAttachment('203.0.113.5') });
  t.equal(on.annotations['external-dns.alpha.kubernetes.io/target'], '203.0.113.5');
  t.equal(on.annotations['external-dns.kubernetes.io/target'], undefined, 'the other prefix is not touched');
  const off = decorateService({ ...base, annotations: { ...base.annotations, 'external-dns.alpha.kubernetes.io/target': '203.0.113.5', 'external-dns.kubernetes.io/target': 'lb.example.org' }, ...withAttachment('203.0.113.5') });
  t.equal(off.annotations['external-dns.alpha.kubernetes.io/target'], null, 'a target we wrote is removed');
  t.equal(off.annotations['external-dns.kubernetes.io/target'], undefined, "a target the user wrote (another value) is the user's");
});

t.test('finalizing: the attachment goes first, then the written annotations', async (t) => {
  const waiting = decorateService({ ...base, finalizing: true, ...withAttachment('203.0.113.5') });
  t.same(waiting, { attachments: [], annotations: {}, finalized: false, resyncAfterSeconds: 10 });
  const adopted = decorateService({ ...base, finalizing: true, annotations: { [A.address]: '203.0.113.7' } });
  t.same(adopted.annotations, { [A.allocatedAddress]: null, [A.problem]: null }, "a user's address annotation stays");
  t.equal(adopted.finalized, true);
});

t.test('an allocated address written back is never adopted; a new address asked later is a problem', async (t) => {
  const annotations = { ...base.annotations, [A.address]: '203.0.113.5', [A.allocatedAddress]: '203.0.113.5' };
  const d = decorateService({ ...base, annotations, ...withAttachment('203.0.113.5') });
  t.equal(d.attachments[0]?.spec.address, undefined);
  t.equal(d.annotations[A.problem], null);
  const asked = decorateService({ ...base, annotations: { ...annotations, [A.address]: '203.0.113.9' }, ...withAttachment('203.0.113.5') });
  t.equal(asked.attachments[0]?.spec.address, undefined, 'not sent: spec.address cannot be added');
  t.match(asked.annotations[A.problem], /asks for 203\.0\.113\.9 but RoutedIP spec\.address \(allocated\) is immutable/);
  const recreated = decorateService({ ...base, annotations });
  t.equal(recreated.attachments[0]?.spec.address, undefined, 'a recreated RoutedIP allocates again rather than adopting a released address');
});
