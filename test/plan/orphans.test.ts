/**
 * The orphan sweep's plan, pure: scope (namespace, cluster), what counts as gone, the grace
 * carried through status, and the release bound. Every combination of the marks that decide
 * scope and release is enumerated.
 */
import t from 'tap';
import { MAX_RELEASES_PER_CALL, planOrphanSweep, ruleKey, type SweepInput } from '../../src/plan/orphans.js';
import type { MarkedAddress, MarkedRule } from '../../src/issuers/issuer.js';
import { parseMark, ruleMark } from '../../src/issuers/marks.js';
import { MAX_ORPHAN_RECORDS } from '../../src/schemas/routed-ip.js';
import { loadConfig } from '../../src/config.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const at = (secondsAgo: number) => new Date(NOW.getTime() - secondsAgo * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const GRACE = 600;

const addr = (id: string, extra: Partial<MarkedAddress> = {}): MarkedAddress => ({
  id,
  address: `198.51.100.${id.replace(/\D/g, '') || '1'}`,
  uid: `uid-${id}`,
  owner: `ingress/${id}`,
  cluster: 'c1',
  associated: false,
  ...extra,
});

/** A pair of firewall `sg-1` under the mark of `namespace/name` (cluster `c1` unless given). */
const pair = (port: number, name: string, extra: { namespace?: string; cluster?: string | null; source?: string; firewall?: string } = {}): MarkedRule => {
  const mark = ruleMark({ namespace: extra.namespace ?? 'ingress', name }, extra.cluster === null ? undefined : (extra.cluster ?? 'c1'));
  const parsed = parseMark(mark);
  if (!parsed) throw new Error(`unparsable ${mark}`);
  return { firewall: extra.firewall ?? 'sg-1', protocol: 'tcp', port, source: extra.source ?? '0.0.0.0/0', mark, ...parsed };
};

const known = (parts: Partial<SweepInput['known']> = {}): SweepInput['known'] => ({ uids: new Set(), addresses: new Set(), names: new Set(), rulesInUse: new Set(), ...parts });

const input = (extra: Partial<SweepInput> = {}): SweepInput => ({
  namespace: 'ingress',
  marked: [],
  rules: [],
  known: known(),
  cluster: 'c1',
  previous: [],
  now: NOW,
  graceSeconds: GRACE,
  mayRelease: true,
  ...extra,
});

t.test('every combination of cluster mark, namespace, association, policy and age', async (t) => {
  let cases = 0;
  for (const ours of ['c1', undefined] as const) {
    for (const mark of ['c1', 'c2', undefined] as const) {
      for (const namespace of ['ingress', 'web'] as const) {
        for (const associated of [false, true]) {
          for (const mayRelease of [true, false]) {
            for (const age of [undefined, GRACE - 1, GRACE, GRACE * 10]) {
              const a = addr('a1', { ...(mark !== undefined ? { cluster: mark } : { cluster: undefined }), owner: `${namespace}/a1`, associated });
              const plan = planOrphanSweep(
                input({
                  marked: [a],
                  ...(ours !== undefined ? { cluster: ours } : { cluster: undefined }),
                  mayRelease,
                  previous: age === undefined ? [] : [{ id: 'a1', address: a.address, owner: 'ingress/a1', since: at(age) }],
                }),
              );
              const inScope = namespace === 'ingress' && (mark === undefined || mark === ours);
              const due = inScope && ours !== undefined && mark === ours && !associated && mayRelease && age !== undefined && age >= GRACE;
              const label = JSON.stringify({ ours, mark, namespace, associated, mayRelease, age });
              t.equal(plan.orphans.length, inScope ? 1 : 0, `reported: ${label}`);
              t.same(plan.release.map((r) => r.id), due ? ['a1'] : [], `released: ${label}`);
              if (due) t.same(plan.release[0], { id: 'a1', uid: 'uid-a1', cluster: 'c1' }, 'the release names the marks to find again');
              if (inScope) t.equal(plan.orphans[0]?.since, age === undefined ? at(0) : at(age), `since carried from the previous status: ${label}`);
              cases++;
            }
          }
        }
      }
    }
  }
  t.equal(cases, 2 * 3 * 2 * 2 * 2 * 4);
});

t.test('an address a RoutedIP of the namespace has, records or adopts is no orphan', async (t) => {
  const marked = [addr('a1'), addr('a2'), addr('a3'), addr('a4')];
  const previous = marked.map((a) => ({ id: a.id, address: a.address, owner: a.owner ?? '', since: at(GRACE * 2) }));
  const plan = planOrphanSweep(input({ marked, previous, known: known({ uids: new Set(['uid-a1']), addresses: new Set([marked[1]!.address, marked[2]!.address]) }) }));
  t.same(plan.orphans.map((o) => o.id), ['a4']);
  t.same(plan.release.map((o) => o.id), ['a4']);
});

t.test('namespace from the namespace mark, else from the owner mark; neither: out of scope', async (t) => {
  const plan = planOrphanSweep(
    input({
      marked: [addr('a1', { namespace: 'ingress', owner: 'web/x' }), addr('a2', { owner: 'ingress/a2' }), addr('a3', { owner: undefined }), addr('a4', { namespace: 'web', owner: 'ingress/a4' })],
    }),
  );
  t.same(plan.orphans.map((o) => o.id), ['a1', 'a2']);
});

t.test('a record of another address under the same id restarts the grace', async (t) => {
  const a = addr('a1');
  const plan = planOrphanSweep(input({ marked: [a], previous: [{ id: 'a1', address: '203.0.113.9', owner: 'ingress/a1', since: at(GRACE * 2) }] }));
  t.equal(plan.orphans[0]?.since, at(0));
  t.same(plan.release, []);
});

t.test('an unreadable since never releases', async (t) => {
  const a = addr('a1');
  const plan = planOrphanSweep(input({ marked: [a], previous: [{ id: 'a1', address: a.address, owner: 'ingress/a1', since: 'yesterday' }] }));
  t.same(plan.release, []);
});

t.test('releases are bounded per call, oldest first, and the next call comes at once', async (t) => {
  const marked = Array.from({ length: MAX_RELEASES_PER_CALL + 2 }, (_, i) => addr(`a${i + 1}`));
  const previous = marked.map((a, i) => ({ id: a.id, address: a.address, owner: a.owner ?? '', since: at(GRACE + i) }));
  const plan = planOrphanSweep(input({ marked, previous }));
  t.equal(plan.release.length, MAX_RELEASES_PER_CALL);
  t.same(plan.release.map((r) => r.id), marked.slice(-MAX_RELEASES_PER_CALL).map((a) => a.id).reverse(), 'oldest first');
  t.equal(plan.dueInSeconds, 1);
});

t.test('the next due time: a grace from a first sighting, the rest of it for a recorded one', async (t) => {
  const fresh = planOrphanSweep(input({ marked: [addr('a1')] }));
  t.equal(fresh.dueInSeconds, GRACE);
  const half = planOrphanSweep(input({ marked: [addr('a1')], previous: [{ id: 'a1', address: addr('a1').address, owner: 'ingress/a1', since: at(GRACE / 2) }] }));
  t.equal(half.dueInSeconds, GRACE / 2);
  t.equal(planOrphanSweep(input({ marked: [addr('a1', { associated: true })] })).dueInSeconds, undefined, 'nothing will become due');
  t.equal(planOrphanSweep(input({ marked: [addr('a1')], mayRelease: false })).dueInSeconds, undefined);
});

t.test('why orphans are only reported', async (t) => {
  t.match(planOrphanSweep(input({ cluster: undefined })).reportOnly, /CLUSTER_NAME is not set/);
  t.match(planOrphanSweep(input({ mayRelease: false })).reportOnly, /Retain or the issuer is a dry run/);
  t.equal(planOrphanSweep(input()).reportOnly, undefined);
});

t.test('the same inputs give the same plan, sorted by id', async (t) => {
  const marked = [addr('a3'), addr('a1'), addr('a2')];
  const one = planOrphanSweep(input({ marked }));
  const two = planOrphanSweep(input({ marked: [...marked].reverse() }));
  t.same(one, two);
  t.same(one.orphans.map((o) => o.id), ['a1', 'a2', 'a3']);
});

t.test('rules: every combination of cluster mark, namespace, a RoutedIP named, the pair in use, policy and age', async (t) => {
  let cases = 0;
  const id = ruleKey('sg-1', { protocol: 'tcp', port: 8080 }, '0.0.0.0/0');
  for (const ours of ['c1', undefined] as const) {
    for (const mark of ['c1', 'c2', undefined] as const) {
      for (const namespace of ['ingress', 'web'] as const) {
        for (const named of [false, true]) {
          for (const inUse of ['no', 'pair', 'port', 'other firewall'] as const) {
            for (const mayRelease of [true, false]) {
              for (const age of [undefined, GRACE - 1, GRACE, GRACE * 10]) {
                const r = pair(8080, 'gone', { namespace, cluster: mark ?? null });
                const use = { no: [], pair: [id], port: [ruleKey('sg-1', { protocol: 'tcp', port: 8080 })], 'other firewall': [ruleKey('sg-2', { protocol: 'tcp', port: 8080 }, '0.0.0.0/0')] }[inUse];
                const plan = planOrphanSweep(
                  input({
                    rules: [r],
                    known: known({ names: new Set(named ? ['gone'] : ['public']), rulesInUse: new Set(use) }),
                    ...(ours !== undefined ? { cluster: ours } : { cluster: undefined }),
                    mayRelease,
                    previous: age === undefined ? [] : [{ kind: 'rule', id, firewall: 'sg-1', rule: 'tcp/8080 0.0.0.0/0', owner: `${namespace}/gone`, since: at(age) }],
                  }),
                );
                const inScope = namespace === 'ingress' && (mark === undefined || mark === ours) && !named && (inUse === 'no' || inUse === 'other firewall');
                const due = inScope && ours !== undefined && mark === ours && mayRelease && age !== undefined && age >= GRACE;
                const label = JSON.stringify({ ours, mark, namespace, named, inUse, mayRelease, age });
                t.same(plan.orphans, inScope ? [{ kind: 'rule', id, firewall: 'sg-1', rule: 'tcp/8080 0.0.0.0/0', owner: `${namespace}/gone`, since: age === undefined ? at(0) : at(age) }] : [], `reported: ${label}`);
                t.same(plan.counts, { address: 0, rule: inScope ? 1 : 0 });
                t.same(plan.revoke, due ? [{ firewall: 'sg-1', protocol: 'tcp', port: 8080, source: '0.0.0.0/0', mark: r.mark }] : [], `revoked: ${label}`);
                t.same(plan.release, []);
                cases++;
              }
            }
          }
        }
      }
    }
  }
  t.equal(cases, 2 * 3 * 2 * 2 * 4 * 2 * 4);
});

t.test('rules: a long name is matched through its digest, in both forms of the mark', async (t) => {
  const long = 'x'.repeat(250);
  for (const cluster of ['c1', null] as const) {
    const r = pair(443, long, { cluster });
    t.match(r.owner, /^ingress\/#[0-9a-f]{32}$/, 'the mark carries a digest');
    t.same(planOrphanSweep(input({ rules: [r], known: known({ names: new Set([long]) }) })).orphans, [], 'its RoutedIP exists');
    t.equal(planOrphanSweep(input({ rules: [r], known: known({ names: new Set([`${long}y`]) }) })).orphans.length, 1, 'another long name is not it');
  }
});

t.test('rules: a pair listed twice (two rules with the same mark) is one orphan', async (t) => {
  const plan = planOrphanSweep(input({ rules: [pair(443, 'gone'), pair(443, 'gone'), pair(443, 'gone', { source: '::/0' })] }));
  t.same(plan.orphans.map((o) => o.id), ['sg-1 tcp/443 0.0.0.0/0', 'sg-1 tcp/443 ::/0']);
  t.same(plan.counts, { address: 0, rule: 2 });
});

t.test('rules: a record of another owner under the same pair restarts the grace', async (t) => {
  const plan = planOrphanSweep(input({ rules: [pair(443, 'gone')], previous: [{ kind: 'rule', id: 'sg-1 tcp/443 0.0.0.0/0', owner: 'ingress/other', since: at(GRACE * 2) }] }));
  t.equal(plan.orphans[0]?.since, at(0));
  t.same(plan.revoke, []);
  const asAddress = planOrphanSweep(input({ rules: [pair(443, 'gone')], previous: [{ id: 'sg-1 tcp/443 0.0.0.0/0', address: '198.51.100.1', owner: 'ingress/gone', since: at(GRACE * 2) }] }));
  t.same(asAddress.revoke, [], 'an address record never counts for a rule');
});

t.test('addresses and rules share the per-call bound, oldest first, and are reported sorted by kind and id', async (t) => {
  const marked = [addr('a1'), addr('a2')];
  const rules = [pair(80, 'gone'), pair(443, 'gone')];
  const previous = [
    { kind: 'address' as const, id: 'a1', address: marked[0]!.address, owner: 'ingress/a1', since: at(GRACE + 1) },
    { kind: 'address' as const, id: 'a2', address: marked[1]!.address, owner: 'ingress/a2', since: at(GRACE + 4) },
    { kind: 'rule' as const, id: 'sg-1 tcp/80 0.0.0.0/0', owner: 'ingress/gone', since: at(GRACE + 3) },
    { kind: 'rule' as const, id: 'sg-1 tcp/443 0.0.0.0/0', owner: 'ingress/gone', since: at(GRACE + 2) },
  ];
  const plan = planOrphanSweep(input({ marked, rules, previous }));
  t.equal(MAX_RELEASES_PER_CALL, 3);
  t.same(plan.release.map((r) => r.id), ['a2']);
  t.same(plan.revoke.map((r) => r.port), [80, 443], 'the three oldest: a2, then the two rules; a1 waits');
  t.equal(plan.dueInSeconds, 1, 'the rest comes at once');
  t.same(plan.orphans.map((o) => `${o.kind} ${o.id}`), ['address a1', 'address a2', 'rule sg-1 tcp/443 0.0.0.0/0', 'rule sg-1 tcp/80 0.0.0.0/0']);
  t.same(plan.counts, { address: 2, rule: 2 });
});

t.test('the record list is bounded; removable orphans keep their records first, so their grace runs', async (t) => {
  const legacy = Array.from({ length: MAX_ORPHAN_RECORDS }, (_, i) => pair(1000 + i, 'old', { cluster: null }));
  const ours = pair(9999, 'gone');
  const previous = legacy.map((r) => ({ kind: 'rule' as const, id: ruleKey(r.firewall, r, r.source), owner: r.owner, since: at(GRACE * 5) }));
  const first = planOrphanSweep(input({ rules: [...legacy, ours], previous }));
  t.equal(first.orphans.length, MAX_ORPHAN_RECORDS);
  t.same(first.counts, { address: 0, rule: MAX_ORPHAN_RECORDS + 1 });
  t.same(first.ids.rule, [...legacy, ours].map((r) => ruleKey(r.firewall, r, r.source)).sort(), 'every orphan\'s id, beyond the bounded records (what the metric counts)');
  t.ok(first.orphans.some((o) => o.id === 'sg-1 tcp/9999 0.0.0.0/0'), 'the removable one is kept though younger than all');
  const later = planOrphanSweep(input({ rules: [...legacy, ours], previous: first.orphans, now: new Date(NOW.getTime() + GRACE * 1000) }));
  t.same(later.revoke.map((r) => r.port), [9999], 'so its grace ends');
  const reported = planOrphanSweep(input({ rules: [...legacy, ours], previous, mayRelease: false }));
  t.notOk(reported.orphans.some((o) => o.id === 'sg-1 tcp/9999 0.0.0.0/0'), 'report only: the oldest records are kept');
});

t.test('CLUSTER_NAME and ORPHAN_GRACE_SECONDS from the environment', async (t) => {
  t.equal(loadConfig({}).clusterName, undefined, 'unset: no cluster mark');
  t.equal(loadConfig({}).orphanGraceSeconds, 600);
  t.equal(loadConfig({ CLUSTER_NAME: 'prod-eu.1' }).clusterName, 'prod-eu.1');
  t.equal(loadConfig({ ORPHAN_GRACE_SECONDS: '3600' }).orphanGraceSeconds, 3600);
  t.throws(() => loadConfig({ CLUSTER_NAME: 'prod eu' }), /CLUSTER_NAME must be/);
  t.throws(() => loadConfig({ CLUSTER_NAME: 'x'.repeat(64) }), /CLUSTER_NAME must be/);
  t.throws(() => loadConfig({ ORPHAN_GRACE_SECONDS: '5' }), /ORPHAN_GRACE_SECONDS must be/);
});
