/**
 * /sync and /finalize end to end with the Hetzner Cloud issuer against the fake API: first
 * assignment, failover order, port change, a shared Firewall under concurrent syncs, a
 * label-selector Firewall, adoption, both reclaim policies, a lost create answer, 429 with the
 * reset header, action errors, delete protection and credentials problems.
 */
import t, { type Test } from 'tap';
import { DEFAULT_READ_CACHE_SECONDS } from '../../src/issuers/session.js';
import { HETZNER_REQUEST_TIMEOUT_MS } from '../../src/issuers/hetzner/index.js';
import type { Fault } from '../fakes/hetzner/server.js';
import { TOKEN, tokenSecret } from './helpers.js';
import { appliedServers, BASTION, condition, FIREWALL, FOREIGN_RULES, HetznerWorld, rulesOf, serverOf } from './world.js';

const ops = (w: HetznerWorld, from = 0) => w.fake.calls.slice(from).map((c) => c.operation);
/** The firewall's rules without any RoutedIP's marked ones are exactly the foreign rules, byte for byte. */
const foreignKept = (t: Test, w: HetznerWorld) => {
  const marked = (r: unknown) => String((r as { description: unknown }).description).startsWith('routedip:');
  t.equal(JSON.stringify(w.firewall.rules.filter((r) => !marked(r))), JSON.stringify(FOREIGN_RULES), 'foreign rules byte for byte');
};

t.test('first assignment: rules, then the server, then the IP once the firewall is applied; Ready once assigned', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 2 });
  const first = await w.sync();
  t.equal(first.statusCode, 200);
  // The Firewall's actions run on for two reads: the sync re-reads them (awaitFirewall) and
  // creates the IP only once none is running, in this same sync.
  const sent = w.fake.requests.map((r) => r.replace(/\?.*/, '').replace(/\d+/g, 'N'));
  const create = sent.indexOf('POST /vN/floating_ips');
  t.ok(create > 0, 'the IP is created in the first sync, after the firewall applied');
  t.ok(sent.slice(sent.indexOf('POST /vN/firewalls/N/actions/apply_to_resources'), create).includes('GET /vN/firewalls/N/actions'), `the running actions re-read before the create: ${sent.join(', ')}`);
  t.same(w.fake.model.running().filter((a) => a.command !== 'assign_floating_ip' && a.command !== 'create_floating_ip'), [], 'no firewall action still running');
  t.match(JSON.stringify(first.body.status.steps), /"CreateRoutedIP","outcome":"(pending|done)"/);
  t.ok(first.body.resyncAfterSeconds, 'resyncs');
  await w.syncUntilReady();
  t.same(ops(w), ['set_rules', 'apply_to_resources', 'create_floating_ip']);
  const s = w.status;
  t.equal(s.node, s.electedNode);
  t.equal(w.floatingIP?.server, serverOf(s.node));
  t.same(w.floatingIP?.labels, { 'routedip.io/uid': 'uid-public', 'routedip.io/managed-by': 'routedip-operator', 'routedip.io/namespace': 'ingress' }, 'no cluster label without CLUSTER_NAME');
  t.same(rulesOf(w), ['in icmp/-', 'in tcp/22', 'in tcp/443', 'in tcp/80', 'out udp/53']);
  t.ok(w.firewall.rules.slice(3).every((r) => (r as { description: string }).description === 'routedip:ingress/public'), 'our rules carry our mark');
  foreignKept(t, w);
  t.same(appliedServers(w), [serverOf(s.node)!, BASTION].sort((a, b) => a - b));
  const settled = await w.sync();
  let seen = w.fake.requests.length;
  await w.sync();
  t.same(w.fake.requests.slice(seen), [], 'a converged sync within the read cache TTL costs no request');
  w.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  seen = w.fake.requests.length;
  const again = await w.sync();
  t.same(w.fake.requests.slice(seen).map((r) => r.replace(/\?.*/, '').replace(/\d+/g, 'N')), [
    'GET /vN/floating_ips', 'GET /vN/firewalls',
  ], 'once the TTL passed, 2 requests of the 3,600 an hour, shared with the project\'s other RoutedIPs (no action read)');
  t.equal(w.fake.calls.length, 3, 'a converged sync makes zero mutating calls');
  t.equal(again.raw, settled.raw, 'and answers the same bytes');
});

t.test('a firewall still applying after the in-sync wait: no IP on that server yet (FirewallChangePending), the next sync goes on', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 40 });
  const first = await w.sync();
  t.equal(first.statusCode, 200);
  t.match(JSON.stringify(first.body.status.steps), /FirewallChangePending/, 'no IP while the firewall is still being applied');
  t.notOk(w.floatingIP, 'nothing created');
  t.ok(first.body.resyncAfterSeconds, 'resyncs');
  w.fake.model.options.actionReads = 0;
  w.fake.model.completeActions();
  await w.syncUntilReady();
  t.same(ops(w), ['set_rules', 'apply_to_resources', 'create_floating_ip']);
});

t.test('the create answers with a running assign: it is reported pending and polled until done', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  w.fake.model.options.actionReads = 3;
  const old = w.failHolder();
  let moving = await w.sync();
  for (let i = 0; i < 4 && moving.body.status.pendingAction === undefined; i++) moving = await w.sync();
  t.match(moving.body, { resyncAfterSeconds: Number, status: { pendingAction: { type: 'assign' }, node: old } });
  t.equal(w.floatingIP?.server, serverOf(old), 'the IP stays until the action finished');
  await w.syncUntilReady();
  t.not(w.status.node, old);
});

t.test('failover: new server in the firewall before the assign, old one removed only after it completed', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 1 });
  await w.syncUntilReady();
  const before = w.fake.calls.length;
  const old = w.failHolder();
  await w.syncUntilReady();
  const now = w.status.node!;
  t.not(now, old);
  t.same(ops(w, before), ['apply_to_resources', 'assign_floating_ip_to_server', 'remove_from_resources']);
  t.same(w.fake.calls.slice(before).map((c) => c.body), [
    { apply_to: [{ type: 'server', server: { id: serverOf(now) } }] },
    { server: serverOf(now) },
    { remove_from: [{ type: 'server', server: { id: serverOf(old) } }] },
  ]);
  t.same(appliedServers(w), [serverOf(now)!, BASTION].sort((a, b) => a - b), 'the foreign server stays');
});

t.test('port change: the new rule is added before the old one (ours) is removed; foreign rules stay byte for byte', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  w.ports = [443, 8443];
  const before = w.fake.calls.length;
  await w.syncUntilReady();
  t.same(ops(w, before), ['set_rules', 'set_rules']);
  const sent = w.fake.calls.slice(before).map((c) => (c.body as { rules: Array<{ port: string | null; protocol: string; direction: string }> }).rules.map((r) => `${r.direction} ${r.protocol}/${r.port ?? '-'}`).sort());
  t.same(sent[0], ['in icmp/-', 'in tcp/22', 'in tcp/443', 'in tcp/80', 'in tcp/8443', 'out udp/53'], 'first the new port');
  t.same(sent[1], ['in icmp/-', 'in tcp/22', 'in tcp/443', 'in tcp/8443', 'out udp/53'], 'then the old one goes');
  foreignKept(t, w);
});

t.test('narrowing firewallSourceRanges: the sources we opened and no longer want are closed, foreign rules stay', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  type Rule = { description: string | null; port: string | null; source_ips: string[] };
  const ours = () => (w.firewall.rules as Rule[]).filter((r) => r.description?.startsWith('routedip:')).map((r) => `${r.port} ${[...r.source_ips].sort().join(',')}`).sort();
  t.same(ours(), ['443 0.0.0.0/0,::/0', '80 0.0.0.0/0,::/0']);
  w.sources = ['0.0.0.0/0'];
  const partly = await w.sync();
  t.same(ours(), ['443 0.0.0.0/0', '80 0.0.0.0/0'], 'the source to close leaves our rules, the rest of them stays');
  t.equal(condition(partly.body.status, 'FirewallReady')?.reason, 'FirewallConverged');
  w.sources = ['203.0.113.0/24'];
  const narrowed = await w.sync();
  t.same(ours(), ['443 203.0.113.0/24', '80 203.0.113.0/24'], 'nothing stays open to the world');
  t.same(narrowed.body.status.firewall?.addedPorts, [
    { protocol: 'tcp', port: 80, sources: ['203.0.113.0/24'] },
    { protocol: 'tcp', port: 443, sources: ['203.0.113.0/24'] },
  ]);
  foreignKept(t, w);
  const before = w.fake.mutations().length;
  await w.sync();
  t.equal(w.fake.mutations().length, before, 'converged');
});

t.test('shared firewall: two RoutedIPs syncing concurrently never lose each other\'s rules', async (t) => {
  const a = await new HetznerWorld().start(t, { actionReads: 1 });
  const b = a.join('admin');
  b.ports = [8443];
  // A stale read: the first re-read of the firewall answers late, after the other sync's write.
  a.fake.fault('get_firewall', { answerDelayMs: 150 });
  await Promise.all([a.syncUntilReady(), b.syncUntilReady()]);
  // No write ever dropped a rule another write had added (convergence alone would hide it).
  const written = a.fake.calls.filter((c) => c.operation === 'set_rules').map((c) => (c.body as { rules: Array<{ description: string | null; port: string | null }> }).rules.map((r) => `${r.description} ${r.port}`));
  written.forEach((rules, i) => {
    const lost = (written[i - 1] ?? []).filter((r) => !rules.includes(r));
    t.same(lost, [], `set_rules #${i + 1} keeps every rule the previous one wrote`);
  });
  const marks = a.firewall.rules.map((r) => `${(r as { description: string | null }).description} ${(r as { port: string | null }).port}`).filter((s) => s.startsWith('routedip:')).sort();
  t.same(marks, ['routedip:ingress/admin 8443', 'routedip:ingress/public 443', 'routedip:ingress/public 80']);
  foreignKept(t, a);
  t.not(a.status.address, b.status.address);
  t.not(a.status.node, b.status.node, 'the two IPs spread over two nodes');
  // A goes away (Delete): its rules go, B's stay.
  const done = await a.finalizeUntilDone();
  t.equal(done.at(-1)?.body.finalized, true);
  const left = a.firewall.rules.map((r) => (r as { description: string | null }).description).filter((d) => d?.startsWith('routedip:'));
  t.same(left, ['routedip:ingress/admin']);
  t.ok(appliedServers(a).includes(serverOf(b.status.node)!), 'B\'s server stays in the firewall');
  foreignKept(t, a);
});

t.test('a shared rule goes with the last RoutedIP that needs it, whoever marked it; foreign rules stay', async (t) => {
  const a = await new HetznerWorld().start(t, { actionReads: 0 });
  await a.syncUntilReady();
  const b = a.join('admin');
  await b.syncUntilReady();
  const marks = () => (a.firewall.rules as Array<{ description: string | null; port: string | null }>).filter((r) => r.description?.startsWith('routedip:')).map((r) => `${r.description} ${r.port}`).sort();
  t.same(marks(), ['routedip:ingress/public 443', 'routedip:ingress/public 80'], 'b needs the same ports: it adds no rule of its own');
  t.same(b.status.firewall?.addedPorts?.map((p) => p.port), [80, 443], 'and takes over what a added');
  t.equal((await a.finalizeUntilDone()).at(-1)?.body.finalized, true, 'a is gone');
  t.same(marks(), ['routedip:ingress/public 443', 'routedip:ingress/public 80'], 'b still needs them');
  t.ok(appliedServers(a).includes(serverOf(b.status.node)!), 'b\'s server stays');
  b.others = [];
  t.equal((await b.finalizeUntilDone()).at(-1)?.body.finalized, true, 'b is gone');
  t.same(marks(), [], 'nothing a added stays open to the world once both are gone');
  t.same(appliedServers(a), [BASTION], 'only the foreign server is left');
  foreignKept(t, a);
});

t.test('a firewall applied through a label selector already contains the servers; the selector is never touched', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  for (const id of [101, 102, 103]) w.fake.model.servers.get(id)!.labels.role = 'ingress';
  w.firewall.appliedTo = [{ type: 'label_selector', label_selector: { selector: 'role=ingress' } }];
  await w.syncUntilReady();
  w.failHolder();
  await w.syncUntilReady();
  t.notOk(ops(w).some((o) => o === 'apply_to_resources' || o === 'remove_from_resources'), 'no membership call');
  t.same(w.firewall.appliedTo, [{ type: 'label_selector', label_selector: { selector: 'role=ingress' } }]);
});

t.test('adopt spec.address: assigned, never created; finalize Delete only unassigns it', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 1 });
  const adopted = w.fake.model.addFloatingIP('fsn1', { name: 'hand-made' });
  w.address = adopted.ip;
  await w.syncUntilReady();
  t.equal(w.status.address, adopted.ip);
  t.notOk(ops(w).includes('create_floating_ip'), 'never created');
  const done = await w.finalizeUntilDone();
  t.equal(done.at(-1)?.body.finalized, true);
  t.equal(w.fake.model.floatingIPs.get(adopted.id)?.server, null, 'unassigned');
  t.notOk(ops(w).includes('delete_floating_ip'), 'never deleted');
  t.same(w.fake.model.floatingIPs.get(adopted.id)?.labels, {}, 'never labelled');
  t.same(rulesOf(w), ['in icmp/-', 'in tcp/22', 'out udp/53'], 'our rules removed');
  t.same(appliedServers(w), [BASTION], 'our server removed');
});

t.test('finalize Retain leaves the cloud as it is', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  w.policy = 'Retain';
  await w.syncUntilReady();
  const before = w.fake.calls.length;
  t.equal((await w.finalize()).body.finalized, true);
  t.equal(w.fake.calls.length, before, 'no mutating call');
  t.equal(w.fake.model.floatingIPs.size, 1);
});

t.test('finalize Delete: unassign (polled), delete, then our rules and server; finalized once observed clean', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 2 });
  await w.syncUntilReady();
  const before = w.fake.calls.length;
  const id = w.floatingIP!.id;
  const answers = await w.finalizeUntilDone();
  t.equal(answers.at(-1)?.body.finalized, true);
  t.ok(answers.slice(0, -1).every((a) => a.body.finalized !== true), 'not finalized while anything is left');
  const waiting = answers.filter((a) => a.body.status.pendingAction?.type === 'unassign');
  t.ok(waiting.length >= 1 && waiting.every((a) => a.body.resyncAfterSeconds !== undefined), 'the running unassign is reported and polled');
  t.same(ops(w, before), ['unassign_floating_ip', 'delete_floating_ip', 'set_rules', 'remove_from_resources']);
  t.equal(w.fake.model.floatingIPs.has(id), false);
  t.same(rulesOf(w), ['in icmp/-', 'in tcp/22', 'out udp/53']);
  foreignKept(t, w);
  t.same(appliedServers(w), [BASTION]);
});

t.test('delete protection: reported, never changed; finalize completes once the user lifts it', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  w.floatingIP!.protection.delete = true;
  const id = w.floatingIP!.id;
  const answers = await w.finalizeUntilDone(3);
  t.notOk(answers.some((a) => a.body.finalized === true), 'not finalized while the IP is protected');
  t.match(JSON.stringify(answers.at(-1)?.body.status), /DeleteProtected/);
  t.ok(answers.at(-1)?.body.resyncAfterSeconds, 'retried later');
  t.ok(w.fake.model.floatingIPs.has(id), 'the IP is still there');
  t.notOk(w.fake.requests.some((r) => r.includes('change_protection')), 'protection never touched');
  w.fake.model.floatingIPs.get(id)!.protection.delete = false;
  t.equal((await w.finalizeUntilDone()).at(-1)?.body.finalized, true);
  t.equal(w.fake.model.floatingIPs.has(id), false);
});

t.test('a lost create answer (and a lost status) never yields a second IP', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 1 });
  const empty = w.parent.status;
  const fault: Fault = { lose: true };
  w.fake.fault('create_floating_ip', fault);
  for (let i = 0; i < 4 && fault.times! > 0; i++) await w.sync();
  t.equal(fault.times, 0, 'the create was made and its answer lost');
  w.parent = { ...w.parent, status: empty };
  await w.syncUntilReady(10);
  t.equal(w.fake.model.floatingIPs.size, 1, 'exactly one Floating IP');
  t.equal(ops(w).filter((o) => o === 'create_floating_ip').length, 1, 'created once: found again by its label');
  t.equal(w.floatingIP?.server, serverOf(w.status.node));
});

t.test('a create answered after the production request timeout: one IP, found again by its label', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  // The production client gives up after HETZNER_REQUEST_TIMEOUT_MS; Hetzner made the IP anyway.
  w.fake.fault('create_floating_ip', { answerDelayMs: HETZNER_REQUEST_TIMEOUT_MS + 1_000 });
  let slow = await w.sync();
  for (let i = 0; i < 4 && !ops(w).includes('create_floating_ip'); i++) slow = await w.sync();
  t.match(JSON.stringify(slow.body.status), /CloudUnreachable/, 'the timeout is reported');
  t.equal(slow.body.status.address, undefined, 'no address known yet');
  await w.syncUntilReady(10);
  t.equal(w.fake.model.floatingIPs.size, 1, 'exactly one Floating IP');
  t.equal(ops(w).filter((o) => o === 'create_floating_ip').length, 1, 'never created again');
  t.equal(w.floatingIP?.server, serverOf(w.status.node));
});

t.test('429 with RateLimit-Reset: the hook answers 429 with Retry-After and sends nothing until the bucket refilled', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  w.fake.rate.remaining = 0;
  w.fake.rate.reset = Math.floor(w.clock.now().getTime() / 1000) + 3600;
  const limited = await w.sync();
  t.equal(limited.statusCode, 429);
  // One request regained per second: the reserve (20) plus one, well before the full reset.
  t.equal(limited.headers['retry-after'], '21');
  const seen = w.fake.requests.length;
  t.equal((await w.sync()).statusCode, 429, 'still refused');
  t.equal(w.fake.requests.length, seen, 'without a request to Hetzner: no retry storm');
  w.fake.rate.remaining = 3600;
  w.clock.advance(22);
  t.equal((await w.sync()).statusCode, 200, 'calls resume once the bucket allows');
});

t.test('a nearly spent budget answers 429 before Hetzner has to, waiting only for the refill', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  w.fake.rate.remaining = 12;
  w.fake.rate.reset = Math.floor(w.clock.now().getTime() / 1000) + 3000;
  const res = await w.sync();
  t.equal(res.statusCode, 429);
  t.ok(Number(res.headers['retry-after']) <= 21, `waits for the refill, not the full reset (${String(res.headers['retry-after'])} s)`);
  t.ok(w.fake.rate.remaining >= 10, 'the reserve is kept');
});

t.test('action errors: one that fails at once is a condition with backoff, one that fails later is retried; both converge', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 1 });
  await w.syncUntilReady();
  w.fake.model.failures.push({ command: 'assign_floating_ip', code: 'action_failed', message: 'Action failed', immediate: true, times: 1 });
  w.fake.model.failures.push({ command: 'assign_floating_ip', code: 'action_failed', message: 'Action failed', times: 1 });
  const before = w.fake.calls.length;
  w.failHolder();
  // The new server joins the firewall first; the assign follows once that is applied.
  let failed = await w.sync();
  for (let i = 0; i < 4 && !JSON.stringify(failed.body.status).includes('ActionErrored'); i++) failed = await w.sync();
  t.equal(failed.statusCode, 200);
  t.match(JSON.stringify(failed.body.status.conditions), /ActionErrored/);
  t.ok(failed.body.resyncAfterSeconds, 'backoff');
  await w.syncUntilReady(10);
  t.equal(ops(w, before).filter((o) => o === 'assign_floating_ip_to_server').length, 3, 'failed at once, failed later, then done');
  t.equal(w.floatingIP?.server, serverOf(w.status.node));
});

t.test('a node whose server is in another location is not eligible', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  w.nodes = [...w.nodes.slice(0, 1).map((n) => ({ ...n, metadata: { ...n.metadata, labels: { 'topology.kubernetes.io/region': 'nbg1' } }, spec: { providerID: 'hcloud://201' } }))];
  w.endpointsOn = ['n1'];
  const res = await w.sync();
  t.match(condition(res.body.status, 'Ready'), { status: 'False' });
  t.match(JSON.stringify(res.body.status), /NoEligibleNode/);
  t.same(w.fake.calls.filter((c) => c.operation !== 'set_rules'), [], 'no IP, no membership');
});

t.test('bad token: IssuerReady=False with the reason, no token anywhere', async (t) => {
  const w = await new HetznerWorld().start(t);
  w.secrets = [tokenSecret('hc_not-the-right-one')];
  const res = await w.sync();
  t.equal(res.statusCode, 200);
  t.match(condition(res.body.status, 'IssuerReady'), { status: 'False', reason: 'InvalidCredentials' });
  t.notMatch(res.raw, /hc_not-the-right-one/);
  t.notMatch(w.logs.join(''), /hc_not-the-right-one/);
  t.notMatch(w.logs.join(''), new RegExp(TOKEN));
  t.same(w.fake.calls, []);
  t.equal(w.firewall.name, FIREWALL);
});

t.test('two clusters share the Firewall: our marks name our cluster, an old-form mark stays ours, another cluster\'s rules are never touched', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 }, { clusterName: 'prod-eu' });
  const rule = (description: string, port: number, sources: string[]) => ({ description, direction: 'in', port: String(port), protocol: 'tcp', source_ips: sources, destination_ips: [] });
  // The same namespace and name in another cluster, and a rule this operator wrote before CLUSTER_NAME was set.
  const theirs = [rule('routedip:ingress/public@staging', 443, ['0.0.0.0/0']), rule('routedip:ingress/public@staging', 8443, ['0.0.0.0/0', '::/0'])];
  (w.firewall.rules as unknown[]).push(...theirs, rule('routedip:ingress/public', 80, ['0.0.0.0/0']));
  await w.syncUntilReady();
  const marked = () => (w.firewall.rules as Array<{ description: string | null; port: string | null; source_ips: string[] }>)
    .filter((r) => r.description?.startsWith('routedip:')).map((r) => `${r.description} ${r.port} ${[...r.source_ips].sort().join(',')}`).sort();
  t.same(marked(), [
    'routedip:ingress/public 80 0.0.0.0/0',
    'routedip:ingress/public@prod-eu 443 ::/0',
    'routedip:ingress/public@prod-eu 80 ::/0',
    'routedip:ingress/public@staging 443 0.0.0.0/0',
    'routedip:ingress/public@staging 8443 0.0.0.0/0,::/0',
  ], 'only the missing sources added, under our cluster\'s mark; the old-form rule kept, not duplicated');
  t.same(w.status.firewall?.addedPorts, [{ protocol: 'tcp', port: 80, sources: ['0.0.0.0/0', '::/0'] }, { protocol: 'tcp', port: 443, sources: ['::/0'] }], 'the old-form rule is ours, the other cluster\'s are not');

  // A status claiming the other cluster's pairs (stale, or their add landed between our claim and ours): still never ours.
  const fw = w.status.firewall;
  if (fw) w.parent = { ...w.parent, status: { ...w.status, firewall: { ...fw, addedPorts: [...fw.addedPorts, { protocol: 'tcp', port: 8443, sources: ['0.0.0.0/0', '::/0'] }] } } };
  const before = w.fake.calls.length;
  w.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  await w.sync();
  t.same(ops(w, before), [], 'nothing changed');
  t.match(w.status.steps?.find((s) => s.name === 'DeleteRoutedIPFirewallPort'), { outcome: 'skipped' }, 'no delete even planned');
  t.notMatch(JSON.stringify(w.status.firewall?.addedPorts), /8443/, 'the claim on their rule is dropped');
  t.equal((await w.finalizeUntilDone()).at(-1)?.body.finalized, true, 'finalized: never waits on a rule it may not change');
  t.equal(JSON.stringify(w.firewall.rules.filter((r) => (r as { description: string | null }).description?.startsWith('routedip:'))), JSON.stringify(theirs), 'theirs kept byte for byte; ours gone, both forms');
  foreignKept(t, w);
});
