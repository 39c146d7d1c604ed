/** The rule mark: both forms, the 255-character limit, parsing, and who may change what. */
import t from 'tap';
import { isMark, isOtherCluster, MAX_MARK_LENGTH, markedOwner, mayChange, ownsMark, parseMark, ruleMark } from '../../src/issuers/marks.js';

const owner = { namespace: 'ingress', name: 'public' };
/** AWS: "a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*" (security-group rule description). */
const AWS_DESCRIPTION = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

t.test('without a cluster: the form every earlier version wrote; with one: the cluster part', async (t) => {
  t.equal(ruleMark(owner), 'routedip:ingress/public');
  t.equal(ruleMark(owner, 'prod-eu'), 'routedip:ingress/public@prod-eu');
  t.same(parseMark('routedip:ingress/public@prod-eu'), { namespace: 'ingress', owner: 'ingress/public', cluster: 'prod-eu' });
  t.same(parseMark('routedip:ingress/public'), { namespace: 'ingress', owner: 'ingress/public' });
  for (const bad of [undefined, null, '', 'bastion', 'routedip:', 'routedip:nonamespace', 'routedip:/x', 'routedip:Ns/x', 'routedip:ns/x@', 'routedip:ns/x@-bad']) {
    t.equal(parseMark(bad), undefined, `${JSON.stringify(bad)} is no mark`);
  }
});

t.test('the longest names still fit both clouds\' 255-character descriptions and name one RoutedIP', async (t) => {
  const namespace = 'n'.repeat(63);
  const cluster = `c${'l'.repeat(61)}c`;
  const names = ['a'.repeat(253), `${'a'.repeat(252)}b`, 'b'.repeat(150), 'x'];
  const marks = names.map((name) => ruleMark({ namespace, name }, cluster));
  for (const [i, m] of marks.entries()) {
    t.ok(m.length <= MAX_MARK_LENGTH, `${m.length} characters`);
    t.match(m, AWS_DESCRIPTION);
    t.equal(parseMark(m)?.owner, markedOwner({ namespace, name: names[i] as string }, cluster), 'parses back to the owner the sweep computes');
    t.equal(parseMark(m)?.cluster, cluster);
    t.ok(ownsMark(m, { namespace, name: names[i] as string }, cluster));
  }
  t.equal(new Set(marks).size, marks.length, 'distinct names, distinct marks');
  t.equal(ruleMark({ namespace, name: 'x' }, cluster), `routedip:${namespace}/x@${cluster}`, 'a short name is kept as it is');
  t.equal(ruleMark({ namespace: 'ingress', name: 'a'.repeat(238) }), `routedip:ingress/${'a'.repeat(238)}`, 'the old form of a name that fits is unchanged');
});

t.test('a RoutedIP owns both forms of its mark; nothing else', async (t) => {
  t.ok(ownsMark('routedip:ingress/public', owner, 'prod-eu'), 'the old form, after an upgrade');
  t.ok(ownsMark('routedip:ingress/public@prod-eu', owner, 'prod-eu'));
  t.notOk(ownsMark('routedip:ingress/public@staging', owner, 'prod-eu'), 'another cluster\'s');
  t.notOk(ownsMark('routedip:ingress/public@prod-eu', owner), 'a cluster mark, seen by an operator without CLUSTER_NAME');
  t.ok(ownsMark('routedip:ingress/public', owner));
  t.notOk(ownsMark('routedip:ingress/other@prod-eu', owner, 'prod-eu'));
  t.notOk(ownsMark('routedip:web/public@prod-eu', owner, 'prod-eu'));
  t.notOk(ownsMark(undefined, owner, 'prod-eu'));
});

t.test('only this cluster\'s marks and marks without a cluster may be changed', async (t) => {
  const rows: Array<[string | undefined, string | undefined, boolean]> = [
    ['routedip:ingress/public@prod-eu', 'prod-eu', true],
    ['routedip:web/other@prod-eu', 'prod-eu', true],
    ['routedip:ingress/public', 'prod-eu', true],
    ['routedip:ingress/public', undefined, true],
    ['routedip:ingress/public@staging', 'prod-eu', false],
    ['routedip:ingress/public@prod-eu', undefined, false],
    ['routedip:ingress/public@prod', 'prod-eu', false],
    ['bastion', 'prod-eu', false],
    [undefined, 'prod-eu', false],
  ];
  for (const [description, cluster, may] of rows) {
    t.equal(mayChange(description, cluster), may, `${description} by ${cluster ?? 'no cluster'}`);
    t.equal(isOtherCluster(description, cluster), isMark(description) && !may);
  }
});
