/** /finalize on the memory cloud: Retain, Delete, adopted addresses, and the finalized rule. */
import t from 'tap';
import { IssuerUnavailableError } from '../../src/issuers/errors.js';
import { routedIP } from '../fixtures/k8s.js';
import { ACCOUNT, condition, FIREWALL, ScriptedWorld } from './world.js';

t.test('Delete: unassign, release, remove what was added; finalized once observed clean', async (t) => {
  const w = await new ScriptedWorld().start(t);
  await w.sync();
  w.cloud.clearCalls();
  const res = await w.finalize();
  t.equal(res.statusCode, 200);
  t.equal(res.body.finalized, true);
  t.same(w.writeMethods(), ['unassignRoutedIP', 'releaseRoutedIP', 'deleteRoutedIPFirewallPort', 'deleteRoutedIPFirewallNode']);
  const snap = w.cloud.snapshot(ACCOUNT);
  t.same(snap.ips, [], 'address released');
  t.same(snap.firewalls.find((f) => f.name === FIREWALL)?.rules, [], 'our rules removed');
  t.same(snap.firewalls.find((f) => f.name === FIREWALL)?.nodes, [], 'our node removed');
  const again = await w.finalize();
  t.equal(again.body.finalized, true, 'idempotent: called again after finalized');
});

t.test('Retain: no cloud call at all, finalized at once', async (t) => {
  const w = new ScriptedWorld();
  w.issuerSpec = { ...w.issuerSpec, routedIPReclaimPolicy: 'Retain' };
  await w.start(t);
  await w.sync();
  const before = w.cloud.snapshot(ACCOUNT);
  w.cloud.clearCalls();
  const res = await w.finalize();
  t.equal(res.body.finalized, true);
  t.same(w.cloud.calls(ACCOUNT), []);
  t.same(w.cloud.snapshot(ACCOUNT), before, 'cloud untouched');
  t.equal(condition(res.body.status, 'IPAllocated')?.reason, 'Retained');
});

t.test('Delete with an adopted address: unassigned, never released', async (t) => {
  const w = new ScriptedWorld();
  const seeded = w.cloud.seedAddress(ACCOUNT, { address: '198.51.100.7' });
  w.parent = routedIP('public', { serviceRef: { name: 'ingress-nginx' }, address: seeded.address });
  await w.start(t);
  const synced = await w.sync();
  t.equal(synced.body.status.address, '198.51.100.7');
  t.equal(condition(synced.body.status, 'IPAllocated')?.reason, 'Adopted');
  const res = await w.finalize();
  t.equal(res.body.finalized, true);
  t.same(w.cloud.snapshot(ACCOUNT).ips.map((i) => [i.address, i.holder]), [['198.51.100.7', undefined]], 'still allocated, unassigned');
  t.notOk(w.cloud.writes(ACCOUNT).some((c) => c.method === 'releaseRoutedIP'));
});

t.test('a failing cloud during finalize: finalized false, status carried forward, retried', async (t) => {
  const w = await new ScriptedWorld().start(t);
  await w.sync();
  w.cloud.failNext('releaseRoutedIP', new IssuerUnavailableError('timeout'));
  const res = await w.finalize();
  t.equal(res.statusCode, 200);
  t.equal(res.body.finalized, false);
  t.ok((res.body.resyncAfterSeconds ?? 0) > 0);
  t.equal(condition(res.body.status, 'Ready')?.reason, 'CloudUnavailable');
  const retry = await w.finalize();
  t.equal(retry.body.finalized, true);
  t.same(w.cloud.snapshot(ACCOUNT).ips, []);
});

t.test('finalized is never sent on a sync, and a missing issuer holds the finalizer', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const synced = await w.sync();
  t.notOk('finalized' in synced.body);
  w.parent = { ...w.parent, spec: { ...w.parent.spec!, issuerRef: { name: 'gone' } } };
  const res = await w.finalize();
  t.equal(res.body.finalized, false);
  t.equal(condition(res.body.status, 'IssuerReady')?.reason, 'IssuerNotFound');
  t.match(condition(res.body.status, 'Ready')?.message, /remove the finalizer metacontroller\.io\/compositecontroller-routedip/);
  t.equal(res.body.status.address, synced.body.status.address, 'previous status carried forward');
});

t.test('a sibling sharing the firewall keeps what it needs after this one is deleted', async (t) => {
  const a = await new ScriptedWorld().start(t);
  await a.sync();
  const b = a.sibling('second');
  await b.sync();
  a.siblings = [b.parent];
  const res = await a.finalize();
  t.equal(res.body.finalized, true);
  t.same(a.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => r.port), [80, 443], 'ports b needs are kept');
  t.same(a.cloud.snapshot(ACCOUNT).firewalls[0]?.nodes, [b.status.node], 'only b\'s node is left');
});
