/** `judgeNode` / `judgeNodes`: every eligibility rule, the first failed rule as reason, sorting. */
import t from 'tap';
import type { NodeTarget } from '../../src/issuers/issuer.js';
import { judgeNode, judgeNodes, REGION_LABEL, type EligibilityContext } from '../../src/plan/eligibility.js';
import { HOLDER_LABEL } from '../../src/plan/holder.js';
import type { Node } from '../../src/schemas/kubernetes.js';
import { node, notReady, unschedulable, withLabels, withProviderID, withTaint, type Mod } from '../fixtures/k8s.js';

/** A DigitalOcean-like parser: `digitalocean://<digits>`. */
const doTarget = (n: Node): NodeTarget | undefined => {
  const m = /^digitalocean:\/\/(\d+)$/.exec(n.spec?.providerID ?? '');
  return m ? { node: n.metadata.name, id: m[1] as string } : undefined;
};
const ctx = (parts: Partial<EligibilityContext> = {}): EligibilityContext => ({ nodeTarget: doTarget, region: 'nyc3', ...parts });
const pid = withProviderID('digitalocean://7');
const readyStatus = (status: string | undefined): Mod<Node> => (n) => {
  n.status = status === undefined ? { conditions: [{ type: 'MemoryPressure', status: 'False' }] } : { conditions: [{ type: 'Ready', status }] };
};
const noStatus = (): Mod<Node> => (n) => {
  delete n.status;
};

const cases: Array<{ name: string; node: Node; ctx?: Partial<EligibilityContext>; reason: string }> = [
  { name: 'a Ready, schedulable, parsing node is eligible', node: node('n1', pid), reason: '' },
  { name: 'Ready False', node: node('n1', pid, notReady()), reason: 'not Ready' },
  { name: 'Ready Unknown', node: node('n1', pid, readyStatus('Unknown')), reason: 'not Ready' },
  { name: 'Ready condition missing', node: node('n1', pid, readyStatus(undefined)), reason: 'not Ready' },
  { name: 'no status at all', node: node('n1', pid, noStatus()), reason: 'not Ready' },
  { name: 'unschedulable', node: node('n1', pid, unschedulable()), reason: 'unschedulable' },
  { name: 'NoExecute taint', node: node('n1', pid, withTaint('node.kubernetes.io/unreachable', 'NoExecute')), reason: 'NoExecute taint' },
  { name: 'NoSchedule taint is fine', node: node('n1', pid, withTaint('dedicated', 'NoSchedule')), reason: '' },
  { name: 'PreferNoSchedule taint is fine', node: node('n1', pid, withTaint('dedicated', 'PreferNoSchedule')), reason: '' },
  {
    name: 'NoExecute among other taints',
    node: node('n1', pid, withTaint('a', 'NoSchedule'), withTaint('b', 'NoExecute')),
    reason: 'NoExecute taint',
  },
  {
    name: 'nodeSelector matches',
    node: node('n1', pid, withLabels({ role: 'ingress' })),
    ctx: { nodeSelector: { matchLabels: { role: 'ingress' } } },
    reason: '',
  },
  {
    name: 'nodeSelector does not match',
    node: node('n1', pid, withLabels({ role: 'web' })),
    ctx: { nodeSelector: { matchLabels: { role: 'ingress' } } },
    reason: 'does not match nodeSelector',
  },
  {
    name: 'nodeSelector expression does not match',
    node: node('n1', pid),
    ctx: { nodeSelector: { matchExpressions: [{ key: 'role', operator: 'Exists' }] } },
    reason: 'does not match nodeSelector',
  },
  {
    name: 'nodeSelector ignores the holder label this service writes (Exists on it does not match)',
    node: node('n1', pid, withLabels({ [HOLDER_LABEL]: 'true' })),
    ctx: { nodeSelector: { matchExpressions: [{ key: HOLDER_LABEL, operator: 'Exists' }] } },
    reason: 'does not match nodeSelector',
  },
  {
    name: 'nodeSelector ignores the holder label this service writes (DoesNotExist on it matches)',
    node: node('n1', pid, withLabels({ [HOLDER_LABEL]: 'true', role: 'ingress' })),
    ctx: { nodeSelector: { matchLabels: { role: 'ingress' }, matchExpressions: [{ key: HOLDER_LABEL, operator: 'DoesNotExist' }] } },
    reason: '',
  },
  { name: 'no providerID', node: node('n1'), reason: 'providerID does not parse for this issuer' },
  { name: 'providerID of another provider', node: node('n1', withProviderID('aws:///us-east-1a/i-0abc')), reason: 'providerID does not parse for this issuer' },
  { name: 'malformed providerID', node: node('n1', withProviderID('digitalocean://abc')), reason: 'providerID does not parse for this issuer' },
  { name: 'region label equal', node: node('n1', pid, withLabels({ [REGION_LABEL]: 'nyc3' })), reason: '' },
  { name: 'region label mismatch', node: node('n1', pid, withLabels({ [REGION_LABEL]: 'sfo2' })), reason: 'in region sfo2, not nyc3' },
  { name: 'region label absent: the node does not say, it is eligible', node: node('n1', pid), reason: '' },
  {
    name: 'issuer without region: any region label is fine',
    node: node('n1', pid, withLabels({ [REGION_LABEL]: 'sfo2' })),
    ctx: { region: undefined },
    reason: '',
  },
  { name: 'serviceRef: node hosts a ready endpoint', node: node('n1', pid), ctx: { endpointNodes: new Set(['n1']) }, reason: '' },
  {
    name: 'serviceRef: no endpoints at all',
    node: node('n1', pid),
    ctx: { endpointNodes: new Set() },
    reason: 'hosts no ready endpoint of the Service',
  },
  {
    name: 'serviceRef: endpoints on other nodes only',
    node: node('n1', pid),
    ctx: { endpointNodes: new Set(['n2', 'n3']) },
    reason: 'hosts no ready endpoint of the Service',
  },
  { name: 'no serviceRef: endpoints are not required', node: node('n1', pid), ctx: { endpointNodes: undefined }, reason: '' },

  // The reason is the first failed rule, in PRODUCT.md order.
  { name: 'first rule: not Ready beats unschedulable', node: node('n1', pid, notReady(), unschedulable()), reason: 'not Ready' },
  {
    name: 'first rule: unschedulable beats NoExecute',
    node: node('n1', pid, unschedulable(), withTaint('x', 'NoExecute')),
    reason: 'unschedulable',
  },
  {
    name: 'first rule: NoExecute beats nodeSelector',
    node: node('n1', pid, withTaint('x', 'NoExecute')),
    ctx: { nodeSelector: { matchLabels: { role: 'ingress' } } },
    reason: 'NoExecute taint',
  },
  {
    name: 'first rule: nodeSelector beats providerID',
    node: node('n1'),
    ctx: { nodeSelector: { matchLabels: { role: 'ingress' } } },
    reason: 'does not match nodeSelector',
  },
  {
    name: 'first rule: providerID beats region',
    node: node('n1', withLabels({ [REGION_LABEL]: 'sfo2' })),
    reason: 'providerID does not parse for this issuer',
  },
  {
    name: 'first rule: region beats endpoints',
    node: node('n1', pid, withLabels({ [REGION_LABEL]: 'sfo2' })),
    ctx: { endpointNodes: new Set() },
    reason: 'in region sfo2, not nyc3',
  },
  {
    name: 'first rule: every rule fails, not Ready is reported',
    node: node('n1', notReady(), unschedulable(), withTaint('x', 'NoExecute'), withLabels({ [REGION_LABEL]: 'sfo2' })),
    ctx: { nodeSelector: { matchLabels: { role: 'ingress' } }, endpointNodes: new Set() },
    reason: 'not Ready',
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const j = judgeNode(c.node, ctx(c.ctx));
    t.equal(j.name, 'n1');
    t.equal(j.reason, c.reason);
    t.equal(j.eligible, c.reason === '');
  });
}

t.test('the target is reported whenever the providerID parses, eligible or not', async (t) => {
  t.same(judgeNode(node('n1', pid), ctx()).target, { node: 'n1', id: '7' });
  t.same(judgeNode(node('n1', pid, notReady()), ctx()).target, { node: 'n1', id: '7' });
  const unparsed = judgeNode(node('n1', notReady()), ctx());
  t.equal(unparsed.target, undefined);
  t.notOk('target' in unparsed, 'no target key at all when the providerID does not parse');
});

t.test('judgeNodes judges every node and sorts by name, whatever the input order', async (t) => {
  const nodes = [
    node('w3', withProviderID('digitalocean://3')),
    node('a10', withProviderID('digitalocean://10'), notReady()),
    node('w1', withProviderID('digitalocean://1')),
    node('b2'),
  ];
  const judged = judgeNodes(nodes, ctx());
  t.same(
    judged.map((j) => [j.name, j.eligible, j.reason]),
    [
      ['a10', false, 'not Ready'],
      ['b2', false, 'providerID does not parse for this issuer'],
      ['w1', true, ''],
      ['w3', true, ''],
    ],
  );
  t.same(judgeNodes([...nodes].reverse(), ctx()), judged, 'input order does not matter');
  const sorted = [nodes[1]!, nodes[3]!, nodes[2]!, nodes[0]!];
  t.same(judgeNodes(sorted, ctx()), judged, 'sorted already, as Metacontroller sends them: kept');
  t.same(judgeNodes([nodes[1]!, nodes[3]!, nodes[0]!, nodes[2]!], ctx()), judged, 'only the last pair out of order: sorted');
  t.same(judgeNodes([nodes[3]!, nodes[1]!, nodes[2]!, nodes[0]!], ctx()), judged, 'only the first pair out of order: sorted');
  t.same(judgeNodes([], ctx()), []);
  t.equal(nodes[0]?.metadata.name, 'w3', 'the input array is not reordered');
});

t.test('transient: only failures that flap (not Ready, NoExecute, no endpoint) are waited out by a failover grace', async (t) => {
  const ep = { endpointNodes: new Set<string>() };
  const cases: Array<[string, Node, Partial<EligibilityContext>, boolean | undefined]> = [
    ['eligible: no flag', node('n1', pid), {}, undefined],
    ['not Ready', node('n1', pid, notReady()), {}, true],
    ['NoExecute taint', node('n1', pid, withTaint('node.kubernetes.io/unreachable', 'NoExecute')), {}, true],
    ['no ready endpoint', node('n1', pid), ep, true],
    ['not Ready, tainted and without endpoint', node('n1', pid, notReady(), withTaint('x', 'NoExecute')), ep, true],
    ['cordoned', node('n1', pid, unschedulable()), {}, false],
    ['not Ready and cordoned: the cordon is not waited out', node('n1', pid, notReady(), unschedulable()), {}, false],
    ['no endpoint and outside the nodeSelector', node('n1', pid), { ...ep, nodeSelector: { matchLabels: { role: 'ingress' } } }, false],
    ['providerID does not parse', node('n1'), {}, false],
    ['not Ready in another region', node('n1', pid, notReady(), withLabels({ [REGION_LABEL]: 'ams3' })), {}, false],
  ];
  for (const [what, n, c, want] of cases) t.equal(judgeNode(n, ctx(c)).transient, want, what);
  t.equal(judgeNode(node('n1', pid, notReady(), unschedulable()), ctx()).reason, 'not Ready', 'the reason is still the first failed rule');
});

t.test('failingSince: the earliest time the API gives for a failure', async (t) => {
  const at = (ready: string | undefined, taints: Array<string | undefined>): Node => {
    const n = node('n1', pid);
    n.status = { conditions: [{ type: 'Ready', status: 'False', ...(ready !== undefined ? { lastTransitionTime: ready } : {}) }] };
    n.spec = { ...n.spec, taints: taints.map((time, i) => ({ key: `k${i}`, effect: 'NoExecute', ...(time !== undefined ? { timeAdded: time } : {}) })) };
    return n;
  };
  t.equal(judgeNode(at('2026-01-01T00:00:10Z', []), ctx()).failingSince, '2026-01-01T00:00:10Z', 'Ready lastTransitionTime');
  t.equal(judgeNode(at('2026-01-01T00:00:10Z', ['2026-01-01T00:00:05Z', '2026-01-01T00:00:20Z']), ctx()).failingSince, '2026-01-01T00:00:05Z', 'earliest taint');
  t.equal(judgeNode(at(undefined, [undefined]), ctx()).failingSince, undefined, 'no time given');
  t.equal(judgeNode(at('yesterday', ['2026-01-01T00:00:20Z']), ctx()).failingSince, '2026-01-01T00:00:20Z', 'a time that does not parse is ignored');
  const ready = node('n1', pid);
  ready.status = { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:10Z' }] };
  t.equal(judgeNode(ready, ctx({ endpointNodes: new Set() })).failingSince, undefined, 'a Ready node says nothing about when its endpoints went');
  t.equal(judgeNode(ready, ctx()).failingSince, undefined, 'eligible');
});
