/** `matchesSelector`: metav1.LabelSelector semantics, table-driven. */
import t from 'tap';
import { matchesSelector } from '../../src/plan/label-selector.js';
import type { LabelSelector } from '../../src/schemas/kubernetes.js';

const labels = { role: 'ingress', zone: 'a', empty: '' };

const cases: Array<{ name: string; selector: LabelSelector | undefined; labels?: Record<string, string>; want: boolean }> = [
  { name: 'absent selector matches everything', selector: undefined, want: true },
  { name: 'absent selector matches a node without labels', selector: undefined, labels: undefined, want: true },
  { name: 'empty selector matches everything', selector: {}, want: true },
  { name: 'empty lists match everything', selector: { matchLabels: {}, matchExpressions: [] }, want: true },
  { name: 'empty selector matches a node without labels', selector: {}, labels: undefined, want: true },

  { name: 'matchLabels: equal value', selector: { matchLabels: { role: 'ingress' } }, want: true },
  { name: 'matchLabels: different value', selector: { matchLabels: { role: 'web' } }, want: false },
  { name: 'matchLabels: missing key', selector: { matchLabels: { pool: 'x' } }, want: false },
  { name: 'matchLabels: every pair must hold (all hold)', selector: { matchLabels: { role: 'ingress', zone: 'a' } }, want: true },
  { name: 'matchLabels: every pair must hold (one fails)', selector: { matchLabels: { role: 'ingress', zone: 'b' } }, want: false },
  { name: 'matchLabels: empty value matches an empty label', selector: { matchLabels: { empty: '' } }, want: true },
  { name: 'matchLabels: empty value does not match a missing label', selector: { matchLabels: { absent: '' } }, want: false },
  { name: 'matchLabels on a node without labels', selector: { matchLabels: { role: 'ingress' } }, labels: undefined, want: false },

  { name: 'In: value listed', selector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }, want: true },
  { name: 'In: value not listed', selector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b', 'c'] }] }, want: false },
  { name: 'In: key missing', selector: { matchExpressions: [{ key: 'pool', operator: 'In', values: ['a'] }] }, want: false },
  { name: 'In: no values matches nothing', selector: { matchExpressions: [{ key: 'zone', operator: 'In', values: [] }] }, want: false },
  { name: 'In: values absent matches nothing', selector: { matchExpressions: [{ key: 'zone', operator: 'In' }] }, want: false },
  { name: 'In: empty label value listed', selector: { matchExpressions: [{ key: 'empty', operator: 'In', values: [''] }] }, want: true },

  { name: 'NotIn: value listed', selector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, want: false },
  { name: 'NotIn: value not listed', selector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['b'] }] }, want: true },
  { name: 'NotIn: key missing matches', selector: { matchExpressions: [{ key: 'pool', operator: 'NotIn', values: ['a'] }] }, want: true },
  { name: 'NotIn on a node without labels', selector: { matchExpressions: [{ key: 'pool', operator: 'NotIn', values: ['a'] }] }, labels: undefined, want: true },

  { name: 'Exists: key present', selector: { matchExpressions: [{ key: 'role', operator: 'Exists' }] }, want: true },
  { name: 'Exists: key present with empty value', selector: { matchExpressions: [{ key: 'empty', operator: 'Exists' }] }, want: true },
  { name: 'Exists: key missing', selector: { matchExpressions: [{ key: 'pool', operator: 'Exists' }] }, want: false },

  { name: 'DoesNotExist: key missing', selector: { matchExpressions: [{ key: 'pool', operator: 'DoesNotExist' }] }, want: true },
  { name: 'DoesNotExist: key present', selector: { matchExpressions: [{ key: 'role', operator: 'DoesNotExist' }] }, want: false },
  { name: 'DoesNotExist: key present with empty value', selector: { matchExpressions: [{ key: 'empty', operator: 'DoesNotExist' }] }, want: false },

  {
    name: 'expressions are ANDed (all hold)',
    selector: {
      matchExpressions: [
        { key: 'role', operator: 'Exists' },
        { key: 'zone', operator: 'In', values: ['a'] },
        { key: 'pool', operator: 'DoesNotExist' },
      ],
    },
    want: true,
  },
  {
    name: 'expressions are ANDed (last fails)',
    selector: {
      matchExpressions: [
        { key: 'role', operator: 'Exists' },
        { key: 'zone', operator: 'NotIn', values: ['a'] },
      ],
    },
    want: false,
  },
  {
    name: 'matchLabels and matchExpressions are ANDed (labels fail)',
    selector: { matchLabels: { role: 'web' }, matchExpressions: [{ key: 'zone', operator: 'Exists' }] },
    want: false,
  },
  {
    name: 'matchLabels and matchExpressions are ANDed (expression fails)',
    selector: { matchLabels: { role: 'ingress' }, matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] },
    want: false,
  },
  {
    name: 'matchLabels and matchExpressions are ANDed (both hold)',
    selector: { matchLabels: { role: 'ingress' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
    want: true,
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const have = 'labels' in c ? c.labels : labels;
    t.equal(matchesSelector(have, c.selector), c.want);
  });
}

t.test('a label inherited from Object.prototype is not a label', async (t) => {
  t.equal(matchesSelector({}, { matchExpressions: [{ key: 'toString', operator: 'Exists' }] }), false);
  t.equal(matchesSelector({}, { matchExpressions: [{ key: 'constructor', operator: 'DoesNotExist' }] }), true);
});

t.test('ignoredKey counts as absent, whatever the operator', async (t) => {
  const have = { role: 'ingress', 'routedip.io/holder': 'true' };
  const key = 'routedip.io/holder';
  t.equal(matchesSelector(have, { matchLabels: { [key]: 'true' } }, key), false);
  t.equal(matchesSelector(have, { matchExpressions: [{ key, operator: 'Exists' }] }, key), false);
  t.equal(matchesSelector(have, { matchExpressions: [{ key, operator: 'DoesNotExist' }] }, key), true);
  t.equal(matchesSelector(have, { matchExpressions: [{ key, operator: 'In', values: ['true'] }] }, key), false);
  t.equal(matchesSelector(have, { matchExpressions: [{ key, operator: 'NotIn', values: ['true'] }] }, key), true);
  t.equal(matchesSelector(have, { matchLabels: { role: 'ingress' } }, key), true, 'other labels still count');
  t.equal(matchesSelector(have, { matchExpressions: [{ key, operator: 'Exists' }] }), true, 'without ignoredKey the label is seen');
});
