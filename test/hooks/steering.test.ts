/**
 * /sync with the election knobs (issue 9 item 4): `spec.nodePreference` steers fresh elections
 * only, `spec.failover.graceSeconds` keeps an ineligible holder for its grace through
 * `status.holderIneligible` and `resyncAfterSeconds`, and a cordon moves the IP at once.
 */
import t from 'tap';
import { MAX_FAILOVER_GRACE_SECONDS, RoutedIPSpecSchema } from '../../src/schemas/routed-ip.js';
import { Value } from '@sinclair/typebox/value';
import { READY_RESYNC_SECONDS } from '../../src/reconcile/sync.js';
import { HOLDER_LABEL } from '../../src/plan/holder.js';
import { node, notReady, unschedulable, withLabels } from '../fixtures/k8s.js';
import { condition, FIREWALL, ScriptedWorld } from './world.js';

const preferB = { nodePreference: [{ weight: 80, preference: { matchExpressions: [{ key: 'pool', operator: 'In' as const, values: ['b'] }] } }] };
const down = (w: ScriptedWorld, name: string) => {
  w.nodes = w.nodes.map((n) => (n.metadata.name === name ? node(name, notReady()) : n));
};
const withGrace = (w: ScriptedWorld, graceSeconds: number) => {
  w.parent = { ...w.parent, spec: { ...w.parent.spec!, failover: { graceSeconds } } };
};

t.test('nodePreference: the first election lands on the preferred node', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.nodes = [node('n1', withLabels({ pool: 'a' })), node('n2', withLabels({ pool: 'b' })), node('n3', withLabels({ pool: 'a' }))];
  w.parent = { ...w.parent, spec: { ...w.parent.spec!, ...preferB } };
  const first = await w.syncOnce();
  t.match(first.body.status.steps.find((s) => s.name === 'ElectRoutedIPNode')?.detail, 'n2 (fresh)', 'the first election is a fresh one');
  const res = await w.sync();
  t.equal(res.body.status.node, 'n2');
  // The same RoutedIP without the preference goes elsewhere: the preference decided.
  const plain = await new ScriptedWorld().start(t);
  plain.nodes = w.nodes;
  t.not((await plain.sync()).body.status.node, 'n2', 'without the preference the hash picks another node');
});

t.test('nodePreference: an eligible holder keeps the IP (fresh elections only), a failover goes to the preferred node', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.nodes = [node('n1'), node('n2'), node('n3')];
  await w.sync();
  const holder = w.status.node!;
  const others = ['n1', 'n2', 'n3'].filter((n) => n !== holder);
  const favourite = others[1]!;
  w.nodes = w.nodes.map((n) => (n.metadata.name === favourite ? node(favourite, withLabels({ pool: 'b' })) : n));
  w.parent = { ...w.parent, metadata: { ...w.parent.metadata, generation: 2 }, spec: { ...w.parent.spec!, ...preferB } };
  w.cloud.clearCalls();
  const kept = await w.sync();
  t.equal(kept.body.status.node, holder, 'adding a preference does not move a healthy holder');
  t.same(w.writes(), [], 'no write at all');
  down(w, holder);
  const moved = await w.sync();
  t.equal(moved.body.status.node, favourite, 'the failover goes to the preferred node');
});

t.test('failover grace 0 (the default) moves at once, as before', async (t) => {
  const w = await new ScriptedWorld().start(t);
  withGrace(w, 0);
  await w.sync();
  const holder = w.status.node!;
  down(w, holder);
  const res = await w.sync();
  t.not(res.body.status.node, holder);
  t.equal(res.body.status.holderIneligible, undefined, 'no record');
});

t.test('failover grace: the holder keeps the IP, the hook comes back when the grace ends, then it moves', async (t) => {
  const w = await new ScriptedWorld().start(t);
  withGrace(w, 40);
  await w.sync();
  const holder = w.status.node!;
  down(w, holder);
  w.clock.advance(1);
  w.cloud.clearCalls();
  const first = await w.sync();
  t.equal(first.body.status.node, holder, 'kept');
  t.same(w.writes(), [], 'nothing moved');
  t.equal(first.body.resyncAfterSeconds, 40, 'back when the grace ends');
  t.same(first.body.status.holderIneligible, { node: holder, since: '2026-11-23T12:00:01Z', reason: 'not Ready' });
  t.equal(condition(first.body.status, 'Ready')?.status, 'True');
  t.match(first.body.status.steps.find((s) => s.name === 'ElectRoutedIPNode')?.detail, `${holder} (grace: not Ready since 2026-11-23T12:00:01Z`);

  w.clock.advance(25);
  const second = await w.sync();
  t.equal(second.body.status.node, holder, 'still kept');
  t.equal(second.body.resyncAfterSeconds, 15, 'the remaining time');
  t.equal(JSON.stringify(second.body.status.holderIneligible), JSON.stringify(first.body.status.holderIneligible), 'the record is not rewritten');

  w.clock.advance(15);
  const third = await w.sync();
  t.not(third.body.status.node, holder, 'moved once the grace has passed');
  t.same(w.writes().slice(-3), [
    `addRoutedIPFirewallNode ${FIREWALL} ${third.body.status.node}`,
    `assignRoutedIP 203.0.113.1 -> ${third.body.status.node}`,
    `deleteRoutedIPFirewallNode ${FIREWALL} ${holder}`,
  ], 'the availability order still holds');
  t.equal(third.body.resyncAfterSeconds, READY_RESYNC_SECONDS);
  t.equal(third.body.status.holderIneligible, undefined, 'the new holder is eligible: the record is gone');
});

t.test('failover grace: a holder that recovers keeps the IP and the record is cleared', async (t) => {
  const w = await new ScriptedWorld().start(t);
  withGrace(w, 60);
  await w.sync();
  const holder = w.status.node!;
  const healthy = w.nodes;
  down(w, holder);
  await w.sync();
  t.ok(w.status.holderIneligible);
  w.nodes = healthy;
  w.clock.advance(30);
  const res = await w.sync();
  t.equal(res.body.status.node, holder);
  t.equal(res.body.status.holderIneligible, undefined);
  t.equal(res.body.resyncAfterSeconds, READY_RESYNC_SECONDS);
  down(w, holder);
  w.clock.advance(50);
  const again = await w.sync();
  t.equal(again.body.status.node, holder, 'a new flap starts a new grace: the first one does not count');
  t.equal(again.body.resyncAfterSeconds, 60);
});

t.test('failover grace: endpoint flaps are waited out too', async (t) => {
  const w = await new ScriptedWorld().start(t);
  withGrace(w, 20);
  await w.sync();
  const holder = w.status.node!;
  w.endpointsOn = w.endpointsOn.filter((n) => n !== holder);
  const res = await w.sync();
  t.equal(res.body.status.node, holder);
  t.equal(res.body.status.holderIneligible?.reason, 'hosts no ready endpoint of the Service');
  w.clock.advance(20);
  t.not((await w.sync()).body.status.node, holder);
});

t.test('failover grace: a cordoned holder moves at once (before a drain takes its pods)', async (t) => {
  const w = await new ScriptedWorld().start(t);
  withGrace(w, 300);
  await w.sync();
  const holder = w.status.node!;
  w.nodes = w.nodes.map((n) => (n.metadata.name === holder ? node(holder, unschedulable(), withLabels({ [HOLDER_LABEL]: 'true' })) : n));
  const res = await w.sync();
  t.not(res.body.status.node, holder, 'kubectl cordon (the first thing kubectl drain does) moves the IP');
  t.equal(res.body.status.holderIneligible, undefined);
});

t.test('failover grace: stale parents neither shorten the grace nor make it endless', async (t) => {
  const w = await new ScriptedWorld().start(t);
  withGrace(w, 30);
  await w.sync();
  const holder = w.status.node!;
  const before = w.parent;
  // The API server says since when the node is down: a status without the record (stale
  // parent) starts the clock there, not at this sync.
  w.nodes = w.nodes.map((n) => (n.metadata.name === holder ? { ...node(holder), status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2026-11-23T12:00:00Z' }] } } : n));
  w.clock.advance(20);
  const first = await w.sync();
  t.equal(first.body.status.node, holder);
  t.equal(first.body.resyncAfterSeconds, 10, 'the grace counts from the API time');
  w.parent = before; // Metacontroller syncs again with the status from before the record
  w.clock.advance(10);
  t.not((await w.sync()).body.status.node, holder, 'a lost record does not restart the grace');

  // A record left from an earlier episode (a stale parent) does not shorten a new one.
  const v = await new ScriptedWorld().start(t);
  withGrace(v, 30);
  await v.sync();
  const h = v.status.node!;
  v.parent = { ...v.parent, status: { ...v.status, holderIneligible: { node: h, since: '2026-11-23T11:00:00Z', reason: 'not Ready' } } };
  v.nodes = v.nodes.map((n) => (n.metadata.name === h ? { ...node(h), status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2026-11-23T12:00:00Z' }] } } : n));
  v.clock.advance(5);
  const res = await v.sync();
  t.equal(res.body.status.node, h, 'kept: the node went down 5 s ago, whatever the stale record says');
  t.equal(res.body.resyncAfterSeconds, 25);
});

t.test('the schema bounds the knobs', async (t) => {
  const spec = (extra: object) => ({ issuerRef: { name: 'cloud' }, ...extra });
  t.ok(Value.Check(RoutedIPSpecSchema, spec({ failover: { graceSeconds: MAX_FAILOVER_GRACE_SECONDS } })));
  t.notOk(Value.Check(RoutedIPSpecSchema, spec({ failover: { graceSeconds: MAX_FAILOVER_GRACE_SECONDS + 1 } })));
  t.notOk(Value.Check(RoutedIPSpecSchema, spec({ failover: { graceSeconds: -1 } })));
  t.notOk(Value.Check(RoutedIPSpecSchema, spec({ nodePreference: [{ weight: 0, preference: {} }] })), 'weight 1-100');
  t.notOk(Value.Check(RoutedIPSpecSchema, spec({ nodePreference: [{ weight: 101, preference: {} }] })));
  t.notOk(Value.Check(RoutedIPSpecSchema, spec({ nodePreference: [{ weight: 1, preference: { matchFields: [{ key: 'metadata.labels', operator: 'In', values: ['x'] }] } }] })), 'matchFields: metadata.name only');
  t.notOk(Value.Check(RoutedIPSpecSchema, spec({ nodePreference: [{ weight: 1, preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a', 'b'] }] } }] })), 'matchFields: one value');
});

t.test('an invalid knob is an InvalidSpec condition, never a move', async (t) => {
  const w = await new ScriptedWorld().start(t);
  await w.sync();
  const holder = w.status.node;
  w.parent = { ...w.parent, spec: { ...w.parent.spec!, failover: { graceSeconds: 99999 } } };
  const res = await w.sync();
  t.equal(res.statusCode, 200);
  t.equal(condition(res.body.status, 'Ready')?.reason, 'InvalidSpec');
  t.equal(res.body.status.node, holder);
});
