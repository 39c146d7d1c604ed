/** `spec.nodePreference`: node affinity's preferred terms scored as the scheduler scores them. */
import t from 'tap';
import { matchesTerm, preferenceScores } from '../../src/plan/node-preference.js';
import { HOLDER_LABEL } from '../../src/plan/holder.js';
import type { NodeSelectorRequirement, PreferredNodeTerm } from '../../src/schemas/routed-ip.js';
import { node, withLabels } from '../fixtures/k8s.js';

const n = node('n1', withLabels({ zone: 'a', cores: '16', pool: 'ingress', neg: '-3', big: '99999999999999999999' }));
const term = (...matchExpressions: NodeSelectorRequirement[]): PreferredNodeTerm => ({ weight: 10, preference: { matchExpressions } });

const cases: Array<[string, PreferredNodeTerm, boolean]> = [
  ['In: listed', term({ key: 'zone', operator: 'In', values: ['a', 'b'] }), true],
  ['In: not listed', term({ key: 'zone', operator: 'In', values: ['b'] }), false],
  ['In: label missing', term({ key: 'rack', operator: 'In', values: ['a'] }), false],
  ['NotIn: not listed', term({ key: 'zone', operator: 'NotIn', values: ['b'] }), true],
  ['NotIn: listed', term({ key: 'zone', operator: 'NotIn', values: ['a'] }), false],
  ['NotIn: label missing matches (label selector semantics)', term({ key: 'rack', operator: 'NotIn', values: ['a'] }), true],
  ['Exists', term({ key: 'pool', operator: 'Exists' }), true],
  ['Exists: missing', term({ key: 'rack', operator: 'Exists' }), false],
  ['DoesNotExist', term({ key: 'rack', operator: 'DoesNotExist' }), true],
  ['DoesNotExist: present', term({ key: 'pool', operator: 'DoesNotExist' }), false],
  ['Gt: greater', term({ key: 'cores', operator: 'Gt', values: ['8'] }), true],
  ['Gt: equal is not greater', term({ key: 'cores', operator: 'Gt', values: ['16'] }), false],
  ['Lt: smaller', term({ key: 'cores', operator: 'Lt', values: ['32'] }), true],
  ['Lt: equal is not smaller', term({ key: 'cores', operator: 'Lt', values: ['16'] }), false],
  ['Lt: negative label value', term({ key: 'neg', operator: 'Lt', values: ['-2'] }), true],
  ['Gt: explicit plus sign', term({ key: 'cores', operator: 'Gt', values: ['+15'] }), true],
  ['Gt: label not an integer', term({ key: 'zone', operator: 'Gt', values: ['1'] }), false],
  ['Gt: label beyond int64', term({ key: 'big', operator: 'Gt', values: ['1'] }), false],
  ['Gt: label missing', term({ key: 'rack', operator: 'Gt', values: ['1'] }), false],
  ['Gt: value not an integer (refused by the API server): matches nothing', term({ key: 'cores', operator: 'Gt', values: ['x'] }), false],
  ['Gt: two values (refused by the API server): matches nothing', term({ key: 'cores', operator: 'Gt', values: ['1', '2'] }), false],
  ['all requirements must hold', term({ key: 'zone', operator: 'In', values: ['a'] }, { key: 'pool', operator: 'In', values: ['web'] }), false],
  ['all requirements hold', term({ key: 'zone', operator: 'In', values: ['a'] }, { key: 'cores', operator: 'Gt', values: ['4'] }), true],
  ['an empty term counts for nothing', { weight: 50, preference: {} }, false],
  ['empty lists count for nothing', { weight: 50, preference: { matchExpressions: [], matchFields: [] } }, false],
  ['matchFields In: the node name', { weight: 1, preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] } }, true],
  ['matchFields In: another name', { weight: 1, preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] } }, false],
  ['matchFields NotIn: another name', { weight: 1, preference: { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n2'] }] } }, true],
  ['matchFields NotIn: the node name', { weight: 1, preference: { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] } }, false],
  [
    'matchExpressions and matchFields are ANDed',
    { weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] } },
    false,
  ],
  ['the holder label this service writes is never preferred on', term({ key: HOLDER_LABEL, operator: 'Exists' }), false],
];

for (const [what, tm, want] of cases) t.test(what, async (t) => t.equal(matchesTerm(n, tm), want));

t.test('the holder label is invisible both ways', async (t) => {
  const holding = node('h', withLabels({ [HOLDER_LABEL]: 'true' }));
  t.equal(matchesTerm(holding, term({ key: HOLDER_LABEL, operator: 'DoesNotExist' })), true, 'a holding node looks like any other');
});

t.test('preferenceScores: the sum of the weights of the matching terms, per node', async (t) => {
  const nodes = [node('a', withLabels({ zone: 'a', ssd: 'true' })), node('b', withLabels({ zone: 'b', ssd: 'true' })), node('c', withLabels({ zone: 'c' }))];
  const terms: PreferredNodeTerm[] = [
    { weight: 30, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
    { weight: 20, preference: { matchExpressions: [{ key: 'ssd', operator: 'Exists' }] } },
    { weight: 100, preference: {} },
  ];
  t.same([...preferenceScores(nodes, terms)], [['a', 50], ['b', 20], ['c', 0]]);
  t.same([...preferenceScores(nodes, [])], [], 'no terms: no scores');
  t.same([...preferenceScores(nodes, undefined)], []);
});
