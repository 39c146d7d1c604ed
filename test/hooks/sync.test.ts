/**
 * /sync end to end on the memory cloud: first round, second round, failover, port changes,
 * ownership, stale status, lost responses, cloud failures and throttling.
 */
import t from 'tap';
import { IssuerRateLimitError, IssuerUnavailableError } from '../../src/issuers/errors.js';
import { endpointSlice, notReady, pod, withTaint } from '../fixtures/k8s.js';
import { sync } from '../helpers/app.js';
import { READY_RESYNC_SECONDS } from '../../src/reconcile/sync.js';
import { ACCOUNT, condition, FIREWALL, ScriptedWorld } from './world.js';

t.test('FirstRound: IP created and assigned, firewall steps in the availability order', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const res = await w.sync();
  t.equal(res.statusCode, 200);
  t.same(Object.keys(res.body).sort(), ['children', 'resyncAfterSeconds', 'status'], 'only keys Metacontroller knows');
  t.equal(res.body.resyncAfterSeconds, READY_RESYNC_SECONDS, 'Ready still asks to be looked at again: drift in the cloud is noticed');
  t.same(w.writeMethods(), ['addRoutedIPFirewallPort', 'addRoutedIPFirewallNode', 'createRoutedIP', 'assignRoutedIP']);
  const s = res.body.status;
  t.equal(s.address, '203.0.113.1');
  t.equal(s.node, s.electedNode);
  t.equal(condition(s, 'Ready')?.status, 'True');
  t.same(s.firewall?.addedPorts, [{ protocol: 'tcp', port: 80, sources: ['0.0.0.0/0', '::/0'] }, { protocol: 'tcp', port: 443, sources: ['0.0.0.0/0', '::/0'] }]);
  t.same(s.firewall?.sources, ['0.0.0.0/0', '::/0']);
  t.equal(res.claims, 1, 'one claim-only sync first: ports and node recorded before they are added');
  t.same(s.firewall?.addedNodes.length, 2, 'the holder and the standby are claimed');
  t.ok(s.firewall?.addedNodes.includes(s.node as string));
  t.same(s.steps.map((x) => x.name), [
    'FindRoutedIP', 'ElectRoutedIPNode', 'FindRoutedIPFirewall', 'FindRoutedIPPorts', 'AddRoutedIPFirewallPort',
    'AddRoutedIPFirewallNode', 'CreateRoutedIP', 'AssignRoutedIP', 'DeleteRoutedIPFirewallPort', 'DeleteRoutedIPFirewallNode',
  ]);
  const snap = w.cloud.snapshot(ACCOUNT);
  t.equal(snap.ips.length, 1);
  t.equal(snap.ips[0]?.holder, s.node);
});

t.test('SecondRound: zero mutating calls and byte-identical status', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const first = await w.sync();
  w.cloud.clearCalls();
  w.clock.advance(3600);
  const second = await w.sync();
  t.same(w.cloud.writes(ACCOUNT), [], 'no write call at all');
  // The first round's steps say "done", the second's "skipped" (the last plan is reported);
  // everything else, transition times included, is unchanged.
  const { steps: _a, ...firstRest } = first.body.status;
  const { steps: _b, ...secondRest } = second.body.status;
  t.equal(JSON.stringify(secondRest), JSON.stringify(firstRest), 'same status apart from the step outcomes');
  t.ok(second.body.status.steps.every((s) => s.outcome === 'skipped' || s.outcome === 'done'));
  w.clock.advance(3600);
  const third = await w.sync();
  t.same(w.cloud.writes(ACCOUNT), []);
  t.equal(third.raw, second.raw, 'a converged sync answers the same bytes every time');
});

t.test('NodeLost: failover adds the new node before the move and removes the old one after', async (t) => {
  const w = await new ScriptedWorld().start(t);
  await w.sync();
  const old = w.status.node as string;
  w.nodes = w.nodes.map((n) => (n.metadata.name === old ? { ...n, status: { conditions: [{ type: 'Ready', status: 'False' }] } } : n));
  w.cloud.clearCalls();
  const res = await w.sync();
  const moved = res.body.status.node as string;
  t.not(moved, old);
  t.same(w.writes(), [
    `addRoutedIPFirewallNode ${FIREWALL} ${moved}`,
    `assignRoutedIP 203.0.113.1 -> ${moved}`,
    `deleteRoutedIPFirewallNode ${FIREWALL} ${old}`,
  ]);
  t.equal(condition(res.body.status, 'Ready')?.status, 'True');
  t.equal(res.claims, 0, 'one sync: the new holder was the claimed standby');
  t.ok(res.body.status.firewall?.addedNodes.includes(moved));
  t.notOk(res.body.status.firewall?.addedNodes.includes(old), 'the old holder is no longer ours');
});

t.test('no eligible node: the IP stays where it is and status says why', async (t) => {
  const w = await new ScriptedWorld().start(t);
  await w.sync();
  const holder = w.status.node;
  w.nodes = w.nodes.map((n) => ({ ...n, status: { conditions: [{ type: 'Ready', status: 'False' }] } }));
  w.cloud.clearCalls();
  const res = await w.sync();
  t.same(w.writes(), [], 'nothing moved, nothing removed');
  t.equal(res.body.status.node, holder);
  t.equal(condition(res.body.status, 'Assigned')?.reason, 'NoEligibleNode');
  t.equal(res.body.resyncAfterSeconds, 60);
  t.match(res.body.status.steps.find((s) => s.name === 'ElectRoutedIPNode')?.detail, /NoEligibleNode: n1: not Ready/);
});

t.test('PortRemoved: only the port this RoutedIP added is deleted, after the assign', async (t) => {
  const w = await new ScriptedWorld().start(t);
  await w.sync();
  w.ports = [443, 8443];
  w.cloud.clearCalls();
  const res = await w.sync();
  t.same(w.writeMethods(), ['addRoutedIPFirewallPort', 'deleteRoutedIPFirewallPort']);
  t.same(res.body.status.firewall?.ports, [{ protocol: 'tcp', port: 443 }, { protocol: 'tcp', port: 8443 }]);
  t.same(res.body.status.firewall?.addedPorts, [{ protocol: 'tcp', port: 443, sources: ['0.0.0.0/0', '::/0'] }, { protocol: 'tcp', port: 8443, sources: ['0.0.0.0/0', '::/0'] }]);
  t.same(w.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => r.port), [443, 8443]);
});

t.test('ForeignRulesUntouched: rules and nodes someone else put there survive every step', async (t) => {
  const w = new ScriptedWorld();
  w.cloud.seedFirewall(ACCOUNT, FIREWALL, { rules: [{ protocol: 'tcp', port: 22, sources: ['10.0.0.0/8'] }, { protocol: 'tcp', port: 80, sources: ['0.0.0.0/0', '::/0'] }], nodes: ['bastion', 'n9'] });
  await w.start(t);
  await w.sync();
  t.same(w.status.firewall?.addedPorts, [{ protocol: 'tcp', port: 443, sources: ['0.0.0.0/0', '::/0'] }], 'port 80 was already open: not ours');
  w.ports = [443];
  w.nodes = [...w.nodes, ...[]];
  const holder = w.status.node as string;
  w.nodes = w.nodes.map((n) => (n.metadata.name === holder ? { ...n, spec: { ...n.spec, unschedulable: true } } : n));
  await w.sync();
  await w.finalize();
  const fw = w.cloud.snapshot(ACCOUNT).firewalls.find((f) => f.name === FIREWALL);
  t.same(fw?.nodes, ['bastion', 'n9'], 'foreign nodes kept, ours removed');
  t.same(w.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => `${r.protocol}/${r.port}`), ['tcp/22', 'tcp/80'], 'foreign rules kept, ours removed');
});

t.test('NoExecute taint and NotReady make a node ineligible', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.nodes = [withTaintNode('n1'), notReadyNode('n2'), w.nodes[2]!];
  const res = await w.sync();
  t.equal(res.body.status.node, 'n3');
  function withTaintNode(name: string) {
    const n = w.nodes.find((x) => x.metadata.name === name)!;
    withTaint('node.kubernetes.io/unreachable', 'NoExecute')(n);
    return n;
  }
  function notReadyNode(name: string) {
    const n = w.nodes.find((x) => x.metadata.name === name)!;
    notReady()(n);
    return n;
  }
});

t.test('stale or lost status: the IP is found again, never a second one', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const first = await w.sync();
  w.parent = { ...w.parent, status: undefined };
  w.cloud.clearCalls();
  const again = await w.sync();
  t.equal(w.cloud.snapshot(ACCOUNT).ips.length, 1, 'exactly one address');
  t.equal(again.body.status.address, first.body.status.address);
  t.notOk(w.writeMethods().includes('createRoutedIP'));
});

t.test('lost create response then retry: exactly one address', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.cloud.failNext('createRoutedIP', new IssuerUnavailableError('connection reset'), { afterEffect: true });
  const failed = await w.sync();
  t.equal(failed.statusCode, 200, 'a cloud failure is not a 5xx');
  t.equal(condition(failed.body.status, 'Ready')?.reason, 'CloudUnavailable');
  t.ok((failed.body.resyncAfterSeconds ?? 0) >= 5);
  const ok = await w.sync();
  t.equal(condition(ok.body.status, 'Ready')?.status, 'True');
  t.equal(w.cloud.snapshot(ACCOUNT).ips.length, 1);
});

t.test('a crash between any two steps, then a retry, converges to the same state', async (t) => {
  const methods = ['addRoutedIPFirewallPort', 'addRoutedIPFirewallNode', 'createRoutedIP', 'assignRoutedIP'] as const;
  const reference = await new ScriptedWorld().start(t);
  await reference.sync();
  for (const method of methods) {
    for (const afterEffect of [false, true]) {
      const w = await new ScriptedWorld().start(t);
      w.cloud.failNext(method, new IssuerUnavailableError('crashed'), { afterEffect });
      const failed = await w.sync();
      t.equal(failed.statusCode, 200);
      t.equal(failed.body.status.steps.find((s) => s.outcome === 'failed')?.name, stepOf(method), `${method} reported as the failed step`);
      await w.sync();
      t.same(w.cloud.snapshot(ACCOUNT).ips.map((i) => [i.address, i.holder]), reference.cloud.snapshot(ACCOUNT).ips.map((i) => [i.address, i.holder]), `${method} afterEffect=${afterEffect}`);
      t.same(w.status.firewall, reference.status.firewall, `ownership record after ${method} afterEffect=${afterEffect}`);
    }
  }
  function stepOf(m: string) {
    return { addRoutedIPFirewallPort: 'AddRoutedIPFirewallPort', addRoutedIPFirewallNode: 'AddRoutedIPFirewallNode', createRoutedIP: 'CreateRoutedIP', assignRoutedIP: 'AssignRoutedIP' }[m];
  }
});

t.test('cloud failure: previous status carried forward with an explaining condition and backoff', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const good = await w.sync();
  w.cloud.failAlways('findRoutedIP', new IssuerUnavailableError('503 from the cloud'));
  const a = await w.sync();
  t.equal(a.statusCode, 200);
  t.equal(a.body.status.address, good.body.status.address);
  t.same(a.body.status.firewall, good.body.status.firewall);
  t.equal(condition(a.body.status, 'Ready')?.status, 'False');
  t.equal(condition(a.body.status, 'Ready')?.message, '503 from the cloud');
  t.equal(a.body.resyncAfterSeconds, 5);
  w.clock.advance(120);
  const b = await w.sync();
  t.equal(b.raw.replace(/"resyncAfterSeconds":\d+,?/, ''), a.raw.replace(/"resyncAfterSeconds":\d+,?/, ''), 'same failure, same status bytes');
  t.equal(b.body.resyncAfterSeconds, 60, 'backoff grows with time spent not Ready');
  w.clock.advance(3600);
  t.equal((await w.sync()).body.resyncAfterSeconds, 300, 'and is capped');
});

t.test('a spent rate budget answers 429 with Retry-After', async (t) => {
  const w = await new ScriptedWorld().start(t);
  w.cloud.failNext('findRoutedIP', new IssuerRateLimitError('rate limited', 42));
  const res = await w.sync();
  t.equal(res.statusCode, 429);
  t.equal(res.headers['retry-after'], '42');
  t.equal((await w.sync()).statusCode, 200, 'still serving');
});

t.test('FirewallNotFound: nothing is created or assigned', async (t) => {
  const w = new ScriptedWorld();
  w.issuerSpec = { ...w.issuerSpec, routedIPFirewallName: 'missing', memory: {} };
  await w.start(t);
  const res = await w.sync();
  t.same(w.cloud.writes(ACCOUNT), []);
  t.equal(condition(res.body.status, 'FirewallReady')?.reason, 'FirewallNotFound');
  t.equal(condition(res.body.status, 'Ready')?.status, 'False');
});

t.test('dryRun plans and reports without mutating the cloud', async (t) => {
  const w = new ScriptedWorld();
  w.issuerSpec = { ...w.issuerSpec, dryRun: true };
  await w.start(t);
  const res = await w.sync();
  t.same(w.cloud.writes(ACCOUNT), []);
  t.equal(condition(res.body.status, 'Ready')?.reason, 'DryRun');
  t.match(res.body.status.steps.find((s) => s.name === 'AddRoutedIPFirewallPort')?.detail, /^dryRun: would /);
});

t.test('two RoutedIPs spread over nodes and share the firewall without removing what the other needs', async (t) => {
  const a = await new ScriptedWorld().start(t);
  await a.sync();
  const b = a.sibling('second');
  await b.sync();
  t.not(b.status.node, a.status.node, 'spread over two nodes');
  t.same(b.status.firewall?.addedPorts, [{ protocol: 'tcp', port: 80, sources: ['0.0.0.0/0', '::/0'] }, { protocol: 'tcp', port: 443, sources: ['0.0.0.0/0', '::/0'] }], 'what a added and b needs too is taken over');
  a.siblings = [b.parent];
  a.ports = [];
  await a.sync();
  t.same(a.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => r.port), [80, 443], 'a keeps ports b still needs');
  t.ok(a.cloud.snapshot(ACCOUNT).firewalls[0]?.nodes.includes(b.status.node as string));
});

t.test('a port kept only for a sibling is removed by the last RoutedIP that needs it (issue 12 item 6c)', async (t) => {
  const a = await new ScriptedWorld().start(t);
  await a.sync();
  const b = a.sibling('second');
  await b.sync();
  a.siblings = [b.parent];
  const done = await a.finalize();
  t.equal(done.body.finalized, true, 'a is gone');
  t.same(a.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => r.port), [80, 443], 'b still needs them');
  b.siblings = [];
  const gone = await b.finalize();
  t.equal(gone.body.finalized, true);
  t.same(b.cloud.observedRules(ACCOUNT, FIREWALL), [], 'nothing a added stays open to the world after both are gone');
  t.same(b.cloud.snapshot(ACCOUNT).firewalls[0]?.nodes, [], 'nor any node');
});

t.test('narrowing firewallSourceRanges closes the sources this RoutedIP opened, keeps foreign ones (issue 8 item 1)', async (t) => {
  const w = new ScriptedWorld();
  w.cloud.seedFirewall(ACCOUNT, FIREWALL, { rules: [{ protocol: 'tcp', port: 443, sources: ['10.0.0.0/8'] }] });
  await w.start(t);
  await w.sync();
  w.issuerSpec = { ...w.issuerSpec, firewallSourceRanges: ['203.0.113.0/24'] };
  const res = await w.sync();
  t.equal(condition(res.body.status, 'FirewallReady')?.reason, 'FirewallConverged');
  const rules = w.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => `${r.port} ${[...r.sources].sort().join(',')}`);
  t.same(rules, ['80 203.0.113.0/24', '443 10.0.0.0/8,203.0.113.0/24'], 'the world-open sources are gone');
  t.same(res.body.status.firewall?.addedPorts, [
    { protocol: 'tcp', port: 80, sources: ['203.0.113.0/24'] },
    { protocol: 'tcp', port: 443, sources: ['203.0.113.0/24'] },
  ]);
  w.cloud.clearCalls();
  await w.sync();
  t.same(w.writeMethods(), [], 'converged: no further writes');
});

t.test("hostPort ingress (Traefik: containerPort 8000/8443, hostPort 80/443): the firewall opens 80/443 (issue 8 item 2)", async (t) => {
  const w = new ScriptedWorld();
  w.ports = [8000, 8443];
  const traefik = (n: string) => pod(`traefik-${n}`, n, [{ containerPort: 8000, hostPort: 80 }, { containerPort: 8443, hostPort: 443 }]);
  await w.start(t);
  const request = () => w.request({
    endpointSlices: [endpointSlice('ingress-nginx', w.endpointsOn.map((nodeName) => ({ nodeName, pod: `traefik-${nodeName}` })), w.ports)],
    pods: w.endpointsOn.map(traefik),
  });
  const claim = await sync(w.app, request());
  w.parent = { ...w.parent, status: claim.body.status };
  const res = await sync(w.app, request());
  t.same(w.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => r.port), [80, 443], 'not the container ports 8000/8443');
  t.match(res.body.status.steps.find((s) => s.name === 'FindRoutedIPPorts')?.detail, 'tcp/80,tcp/443 (from pods)');
  w.parent = { ...w.parent, spec: { ...w.parent.spec!, ports: [{ port: 443 }] }, status: res.body.status };
  await sync(w.app, request());
  t.same(w.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => r.port), [443], 'spec.ports overrides: exactly those');
});

t.test('a RoutedIP deleted before its sibling recorded a shared port waits for the handover, so the last user removes it (issue 12 item 6c)', async (t) => {
  const a = await new ScriptedWorld().start(t);
  await a.sync();
  const b = a.sibling('second');
  // b's first sync sees a stale a (no status yet): the ports a opened look foreign to b.
  b.siblings = [{ ...a.parent, status: undefined }];
  await b.sync();
  t.same(b.status.firewall?.addedPorts, [], 'b did not take over what it could not know a added');
  a.siblings = [b.parent];
  const waiting = await a.finalize();
  t.equal(waiting.body.finalized, false, 'a holds its finalizer: tcp/80 and tcp/443 would be nobody\'s');
  t.match(waiting.body.status.steps.find((s) => s.name === 'DeleteRoutedIPFirewallPort'), { outcome: 'pending', detail: /takes over/ });
  // a's status change resyncs b, which now sees a's record and takes the entries over.
  b.siblings = [a.parent];
  await b.sync();
  t.same(b.status.firewall?.addedPorts?.map((p) => p.port), [80, 443], 'b took them over');
  a.siblings = [b.parent];
  t.equal((await a.finalize()).body.finalized, true, 'a goes once b owns them');
  t.same(a.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => r.port), [80, 443], 'b still needs them');
  b.siblings = [];
  t.equal((await b.finalize()).body.finalized, true);
  t.same(b.cloud.observedRules(ACCOUNT, FIREWALL), [], 'nothing stays open to the world after both are gone');
  t.same(b.cloud.snapshot(ACCOUNT).firewalls[0]?.nodes, [], 'nor any node');
});
