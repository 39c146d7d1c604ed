/**
 * /sync and /finalize end to end with the DigitalOcean issuer against the fake API: first
 * assignment, failover order, port change, adoption, reclaim policies, credentials problems,
 * 429 and 422 paths, and a crash (lost answer + lost status) between any two mutating steps.
 */
import t from 'tap';
import { notReady } from '../fixtures/k8s.js';
import type { Fault } from '../fakes/digitalocean/server.js';
import { TOKEN, tokenSecret } from './helpers.js';
import { DEFAULT_READ_CACHE_SECONDS } from '../../src/issuers/session.js';
import { BASTION, condition, DigitalOceanWorld, dropletOf, FOREIGN_RULE } from './world.js';

const rulesOf = (w: DigitalOceanWorld) => w.firewall.inbound.map((r) => `${r.protocol}/${r.ports}`).sort();

t.test('first assignment: firewall first, IP created on the elected droplet, Ready once the action completed', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 2 });
  const first = await w.sync();
  t.equal(first.statusCode, 200);
  const fw = w.firewall.id;
  t.match(first.body.status, { createIntent: { node: first.body.status.electedNode, target: String(dropletOf(first.body.status.electedNode)), knownAddresses: [] } }, 'the intent is recorded first');
  t.equal(first.body.status.address, undefined);
  t.same(w.fake.mutations(), [], 'nothing is written before the intent and the firewall claims are in status');
  t.same(first.body.status.firewall?.addedPorts.map((p) => p.port), [80, 443], 'the ports are claimed in the same first status');
  t.ok(first.body.status.firewall?.addedNodes.includes(String(dropletOf(first.body.status.electedNode))), 'and the elected droplet');
  const second = await w.sync();
  t.match(second.body, { resyncAfterSeconds: Number, status: { pendingAction: { type: 'assign' }, address: /^198\.51\.100\./ } });
  t.equal(second.body.status.createIntent, undefined, 'the address itself is the record now');
  t.same(w.fake.mutations(), [`POST /v2/firewalls/${fw}/rules`, `POST /v2/firewalls/${fw}/droplets`, 'POST /v2/reserved_ips']);
  await w.syncUntilReady();
  const s = w.status;
  t.equal(s.node, s.electedNode);
  t.equal(w.fake.model.reservedIPs.get(s.address!)?.dropletId, dropletOf(s.node));
  t.equal(w.fake.calls.length, 3, 'no further write while polling the action');
  t.same(rulesOf(w), ['tcp/22', 'tcp/443', 'tcp/80']);
  t.same(w.firewall.dropletIds.sort(), [BASTION, dropletOf(s.node)].sort());
  const settled = await w.sync();
  const again = await w.sync();
  t.equal(w.fake.calls.length, 3, 'a converged sync makes zero mutating calls');
  t.equal(again.raw, settled.raw, 'and answers the same bytes');
});

t.test('failover: new droplet in the firewall before the assign, old one removed only after it completed', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 2 });
  await w.syncUntilReady();
  const old = w.status.node!;
  w.nodes = w.nodes.map((n) => (n.metadata.name === old ? { ...n, ...withNotReady(n) } : n));
  const before = w.fake.calls.length;
  const moving = await w.sync();
  t.match(moving.body.status.pendingAction, { type: 'assign' });
  t.equal(w.fake.model.reservedIPs.get(w.status.address!)?.dropletId, dropletOf(old), 'the IP stays until the action completed');
  await w.syncUntilReady();
  const now = w.status.node!;
  t.not(now, old);
  const fw = w.firewall.id;
  const ip = w.status.address!;
  t.same(w.fake.mutations().slice(before), [
    `POST /v2/firewalls/${fw}/droplets`,
    `POST /v2/reserved_ips/${ip}/actions`,
    `DELETE /v2/firewalls/${fw}/droplets`,
  ]);
  t.same(w.fake.calls.slice(before).map((c) => c.body), [{ droplet_ids: [dropletOf(now)] }, { type: 'assign', droplet_id: dropletOf(now) }, { droplet_ids: [dropletOf(old)] }]);
  t.ok(w.firewall.dropletIds.includes(BASTION), 'the foreign droplet stays');
});

const withNotReady = (n: Parameters<ReturnType<typeof notReady>>[0]) => {
  const copy = structuredClone(n);
  notReady()(copy);
  return copy;
};

t.test('port change: the new rule is added before the old one (ours) is removed; foreign rules stay', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  w.ports = [443, 8443];
  const before = w.fake.calls.length;
  await w.syncUntilReady();
  t.same(w.fake.calls.slice(before).map((c) => [c.method, c.operation, JSON.stringify(c.body)]), [
    ['POST', 'firewalls_add_rules', JSON.stringify({ inbound_rules: [{ protocol: 'tcp', ports: '8443', sources: { addresses: ['0.0.0.0/0', '::/0'] } }], outbound_rules: [] })],
    ['DELETE', 'firewalls_delete_rules', JSON.stringify({ inbound_rules: [{ protocol: 'tcp', ports: '80', sources: { addresses: ['0.0.0.0/0', '::/0'] } }], outbound_rules: [] })],
  ]);
  t.same(rulesOf(w), ['tcp/22', 'tcp/443', 'tcp/8443']);
  t.same(w.firewall.inbound.find((r) => r.ports === '22'), FOREIGN_RULE);
});

t.test('narrowing firewallSourceRanges: the sources we opened and no longer want are closed, foreign rules stay', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  const addresses = () => w.firewall.inbound.filter((r) => r.ports !== '22').map((r) => `${r.ports} ${[...(r.sources.addresses ?? [])].sort().join(',')}`).sort();
  t.same(addresses(), ['443 0.0.0.0/0,::/0', '80 0.0.0.0/0,::/0']);
  w.sources = ['0.0.0.0/0'];
  const partly = await w.sync();
  t.same(addresses(), ['443 0.0.0.0/0', '80 0.0.0.0/0'], 'a stored rule holding a source to close is replaced by the rest of it');
  t.equal(condition(partly.body.status, 'FirewallReady')?.reason, 'FirewallConverged');
  w.sources = ['203.0.113.0/24'];
  const narrowed = await w.sync();
  t.same(addresses(), ['443 203.0.113.0/24', '80 203.0.113.0/24'], 'nothing stays open to the world');
  t.same(narrowed.body.status.firewall?.addedPorts, [
    { protocol: 'tcp', port: 80, sources: ['203.0.113.0/24'] },
    { protocol: 'tcp', port: 443, sources: ['203.0.113.0/24'] },
  ]);
  t.same(w.firewall.inbound.find((r) => r.ports === '22'), FOREIGN_RULE);
  const before = w.fake.mutations().length;
  await w.sync();
  t.equal(w.fake.mutations().length, before, 'converged');
});

t.test('adopt spec.address: assigned, never created; finalize Delete only unassigns it', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  w.address = w.fake.model.addReservedIP('nyc3', null);
  await w.syncUntilReady();
  t.equal(w.status.address, w.address);
  t.notOk(w.fake.calls.some((c) => c.operation === 'reservedIPs_create'), 'never created');
  let done = false;
  for (let i = 0; i < 6 && !done; i++) done = (await w.finalize()).body.finalized === true;
  t.ok(done, 'finalized');
  t.equal(w.fake.model.reservedIPs.get(w.address)?.dropletId, null, 'unassigned');
  t.notOk(w.fake.calls.some((c) => c.operation === 'reservedIPs_delete'), 'never released');
  t.same(rulesOf(w), ['tcp/22'], 'our rules removed');
  t.same(w.firewall.dropletIds, [BASTION], 'our droplet removed');
});

t.test('finalize Retain leaves the cloud as it is', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  w.policy = 'Retain';
  await w.syncUntilReady();
  const before = w.fake.calls.length;
  const res = await w.finalize();
  t.equal(res.body.finalized, true);
  t.equal(w.fake.calls.length, before, 'no mutating call');
  t.equal(w.fake.model.reservedIPs.size, 1);
});

t.test('finalize Delete: unassign, release, then our rules and droplet; finalized once observed clean', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 2 });
  await w.syncUntilReady();
  const before = w.fake.calls.length;
  const ip = w.status.address!;
  const answers = [];
  for (let i = 0; i < 8; i++) {
    const a = await w.finalize();
    answers.push(a);
    if (a.body.finalized === true) break;
  }
  t.equal(answers.at(-1)?.body.finalized, true);
  t.ok(answers.slice(0, -1).every((a) => a.body.finalized !== true), 'not finalized while anything is left');
  const waiting = answers.filter((a) => a.body.status.steps.some((s) => s.name === 'DeleteRoutedIP' && s.outcome === 'pending'));
  t.ok(waiting.length >= 2, 'the unassign is started, then polled');
  t.ok(waiting.every((a) => a.body.status.pendingAction?.type === 'unassign' && a.body.resyncAfterSeconds === 5), 'every answer while it runs reports the action and polls at the pending interval');
  t.same(w.fake.calls.slice(before).map((c) => c.operation), [
    'reservedIPsActions_post', 'reservedIPs_delete', 'firewalls_delete_rules', 'firewalls_delete_droplets',
  ]);
  t.equal(w.fake.model.reservedIPs.has(ip), false);
  t.same(rulesOf(w), ['tcp/22']);
  t.same(w.firewall.dropletIds, [BASTION]);
});

t.test('bad token: IssuerReady=False with the reason, no token anywhere', async (t) => {
  const w = await new DigitalOceanWorld().start(t);
  w.secrets = [tokenSecret('dop_v1_not-the-right-one')];
  const res = await w.sync();
  t.equal(res.statusCode, 200);
  t.match(condition(res.body.status, 'IssuerReady'), { status: 'False', reason: 'InvalidCredentials' });
  t.notMatch(res.raw, /dop_v1_not-the-right-one/);
  t.notMatch(w.logs.join(''), /dop_v1_not-the-right-one/);
  t.notMatch(w.logs.join(''), new RegExp(TOKEN));
  t.same(w.fake.calls, []);
});

t.test('Secret without the routedip.io/issuer label: a condition says so', async (t) => {
  const w = await new DigitalOceanWorld().start(t);
  w.secrets = [tokenSecret(TOKEN, false)];
  // Metacontroller only delivers labelled Secrets: an unlabelled one never arrives.
  const res = await w.sync.call(Object.assign(w, { secrets: [] }));
  t.match(condition(res.body.status, 'IssuerReady'), { status: 'False', reason: 'SecretNotFound', message: /routedip\.io\/issuer/ });
  t.equal(w.fake.requests.length, 0, 'no API call without a token');
});

t.test('429: the hook answers 429 with Retry-After and stops calling until the budget allows', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  w.fake.fault('reservedIPs_get', { status: 429, retryAfter: 30 });
  const limited = await w.sync();
  t.equal(limited.statusCode, 429);
  t.equal(limited.headers['retry-after'], '30');
  const seen = w.fake.requests.length;
  const again = await w.sync();
  t.equal(again.statusCode, 429, 'still refused');
  t.equal(w.fake.requests.length, seen, 'without a request to DigitalOcean: no retry storm');
  w.clock.advance(31);
  t.equal((await w.sync()).statusCode, 200, 'calls resume after Retry-After');
});

t.test('a nearly spent budget answers 429 before DigitalOcean has to', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  await w.syncUntilReady();
  w.fake.rate.remaining = 5;
  w.fake.rate.reset = Math.floor(w.clock.now().getTime() / 1000) + 40;
  const res = await w.sync();
  t.equal(res.statusCode, 429);
  t.equal(res.headers['retry-after'], '40');
  t.ok(w.fake.rate.remaining >= 4, 'the reserve is kept');
});

t.test('422 pending event: a condition with backoff, then convergence', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  w.fake.fault('reservedIPs_create', { status: 422, message: 'Droplet already has a pending event.' });
  await w.sync(); // records the create intent
  const res = await w.sync();
  t.equal(res.statusCode, 200);
  t.ok(res.body.resyncAfterSeconds, 'backoff');
  t.match(JSON.stringify(res.body.status.conditions), /CloudBusy/);
  await w.syncUntilReady();
  t.equal(w.fake.model.reservedIPs.size, 1);
});

t.test('firewall pending_changes: the assign waits until the firewall is applied to the droplet', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 0, firewallPendingReads: 4 });
  await w.sync(); // records the create intent
  const first = await w.sync();
  t.match(JSON.stringify(first.body.status.steps), /FirewallChangePending/);
  t.notOk(w.fake.calls.some((c) => c.operation === 'reservedIPs_create'), 'no IP before the firewall protects the droplet');
  await w.syncUntilReady();
  t.equal(w.fake.model.reservedIPs.size, 1);
});

/** The mutating operations of a first round and of a failover, in order. */
const CRASH_POINTS: Array<[string, string]> = [
  ['first', 'firewalls_add_rules'], ['first', 'firewalls_assign_droplets'], ['first', 'reservedIPs_create'],
  ['failover', 'firewalls_assign_droplets'], ['failover', 'reservedIPsActions_post'], ['failover', 'firewalls_delete_droplets'],
];

for (const [phase, operation] of CRASH_POINTS) {
  t.test(`crash after ${operation} (${phase}): lost answer and lost status, then retries converge with one IP`, async (t) => {
    const w = await new DigitalOceanWorld().start(t, { actionReads: 1 });
    if (phase === 'failover') {
      await w.syncUntilReady();
      const old = w.status.node!;
      w.nodes = w.nodes.map((n) => (n.metadata.name === old ? withNotReady(n) : n));
    }
    const fault: Fault = { lose: true };
    w.fake.fault(operation, fault);
    let kept = w.parent.status;
    for (let i = 0; i < 4 && fault.times! > 0; i++) {
      kept = w.parent.status;
      await w.sync();
    }
    t.equal(fault.times, 0, 'the crash point was reached');
    // The service died before Metacontroller recorded anything: status is the one the crashed sync saw.
    w.parent = { ...w.parent, status: kept };
    await w.syncUntilReady(10);
    t.equal(w.fake.model.reservedIPs.size, 1, 'exactly one reserved IP');
    const ip = w.fake.model.reservedIPs.get(w.status.address!);
    t.equal(ip?.dropletId, dropletOf(w.status.node), 'on the elected node');
    t.same(rulesOf(w), ['tcp/22', 'tcp/443', 'tcp/80'], 'each rule once');
    t.same(w.firewall.dropletIds.sort(), [BASTION, dropletOf(w.status.node)].sort(), 'only the holder and the bastion');
    t.same(w.fake.model.inProgress(), []);
  });
}

t.test('stale status: the status the create was sent from (the intent) finds the same IP', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  await w.sync();
  const intentOnly = w.parent.status;
  t.ok(w.status.createIntent);
  await w.syncUntilReady();
  const address = w.status.address;
  w.parent = { ...w.parent, status: intentOnly };
  await w.syncUntilReady();
  t.equal(w.status.address, address);
  t.equal(w.fake.model.reservedIPs.size, 1);
});

t.test('a foreign IP being assigned to a bastion is never claimed, moved or released (shared account)', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 3 });
  // Someone assigns their reserved IP to the bastion: locked, no droplet, while it runs.
  const theirs = w.fake.model.addReservedIP('nyc3', null);
  w.fake.model.startAction('assign_ip', 'nyc3', () => void (w.fake.model.reservedIPs.get(theirs)!.dropletId = BASTION), theirs, BASTION);
  await w.syncUntilReady();
  t.not(w.status.address, theirs, 'ours is a new IP');
  t.equal(w.fake.model.reservedIPs.get(theirs)?.dropletId, BASTION, 'theirs landed where they sent it');
  t.notOk(w.fake.mutations().some((m) => m.includes(theirs)), 'no call ever touched it');
  w.policy = 'Delete';
  for (let i = 0; i < 6 && (await w.finalize()).body.finalized !== true; i++);
  t.same([...w.fake.model.reservedIPs.keys()], [theirs], 'finalize released ours only');
  t.equal(w.fake.model.reservedIPs.get(theirs)?.dropletId, BASTION);
});

t.test('a foreign IP on a cluster node is not ours: that node is not elected, and Delete leaves the IP alone', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  const theirs = w.fake.model.addReservedIP('nyc3', 101);
  const theirs2 = w.fake.model.addReservedIP('nyc3', 102);
  await w.syncUntilReady();
  t.equal(w.status.node, 'n3', 'the only node whose droplet holds no reserved IP');
  t.notOk(w.fake.mutations().some((m) => m.includes(theirs) || m.includes(theirs2)), 'their IPs untouched');
  for (let i = 0; i < 6 && (await w.finalize()).body.finalized !== true; i++);
  t.same([...w.fake.model.reservedIPs.keys()].sort(), [theirs, theirs2].sort(), 'only ours released');
});

t.test('a recorded address someone moved to a machine outside the cluster is not taken back', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  await w.syncUntilReady();
  const taken = w.status.address!;
  w.fake.model.reservedIPs.get(taken)!.dropletId = BASTION;
  // Drift made in the console shows once the account's cached listing is older than its TTL.
  const before = w.status;
  await w.sync();
  t.same(w.status, before, 'within the read cache TTL the drift is not seen yet, and nothing is written');
  w.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  await w.syncUntilReady();
  t.not(w.status.address, taken, 'a new IP for the RoutedIP');
  t.equal(w.fake.model.reservedIPs.get(taken)?.dropletId, BASTION, 'the taken one stays on the bastion');
  t.notOk(w.fake.mutations().some((m) => m.includes(taken)), 'and is never moved');
});

t.test('two RoutedIPs created together, each blind to the other: one IP each, nobody wedged', async (t) => {
  const a = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  // Both elect the same node: only n1 serves, the others join later.
  a.endpointsOn = ['n1'];
  const b = a.sibling('second');
  await a.sync();
  await b.sync();
  t.equal(a.status.createIntent?.node, 'n1');
  t.equal(b.status.createIntent?.node, 'n1', 'stale views: both intend n1');
  await a.sync();
  const raced = await b.sync();
  t.equal(raced.statusCode, 200);
  t.match(condition(b.status, 'Ready'), { status: 'False' }, 'b lost the race for n1');
  t.ok(raced.body.resyncAfterSeconds !== undefined && raced.body.resyncAfterSeconds < 300, `retried soon, never a 300 s dead end: ${JSON.stringify(b.status.conditions)}`);
  a.endpointsOn = ['n1', 'n2', 'n3'];
  b.endpointsOn = ['n1', 'n2', 'n3'];
  for (let i = 0; i < 12 && !(ready(a) && ready(b)); i++) {
    a.related = [b.parent];
    b.related = [a.parent];
    await a.sync();
    await b.sync();
  }
  t.ok(ready(a) && ready(b), `both Ready: ${JSON.stringify([a.status.conditions[0], b.status.conditions[0]])}`);
  t.not(a.status.address, b.status.address, 'different IPs');
  t.not(a.status.node, b.status.node, 'on different droplets');
  t.equal(a.fake.model.reservedIPs.size, 2, 'exactly two IPs exist');
});

const ready = (w: DigitalOceanWorld) => condition(w.status, 'Ready')?.status === 'True';

t.test('two RoutedIPs that see each other\'s intents: the younger chooses again before any create is refused', async (t) => {
  const a = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  a.endpointsOn = ['n1', 'n2'];
  const b = a.sibling('second');
  b.endpointsOn = ['n1', 'n2'];
  await a.sync();
  b.related = [a.parent];
  await b.sync();
  t.not(b.status.createIntent?.node, a.status.createIntent?.node, 'a new intent avoids the sibling\'s');
  for (let i = 0; i < 10 && !(ready(a) && ready(b)); i++) {
    a.related = [b.parent];
    b.related = [a.parent];
    await a.sync();
    await b.sync();
  }
  t.ok(ready(a) && ready(b), 'both Ready');
  t.not(a.status.address, b.status.address);
  t.equal(a.fake.model.reservedIPs.size, 2, 'exactly two IPs');
  t.equal(a.fake.mutations().filter((m) => m === 'POST /v2/reserved_ips').length, 2, 'two creates, none refused');
});

t.test('a firewall entry left for a sibling is handed over before the RoutedIP that added it goes (issue 12 item 6c)', async (t) => {
  const a = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  await a.syncUntilReady();
  const b = a.sibling('second');
  b.related = [{ ...a.parent, status: undefined }]; // a stale view: what a opened looks foreign
  await b.syncUntilReady();
  t.same(b.status.firewall?.addedPorts, []);
  a.related = [b.parent];
  t.equal((await a.finalize()).body.finalized, false, 'a waits for the handover');
  b.related = [a.parent];
  await b.sync();
  a.related = [b.parent];
  let done = false;
  for (let i = 0; i < 4 && !done; i++) done = (await a.finalize()).body.finalized === true;
  t.ok(done, 'a goes once b owns the entries');
  b.related = [];
  done = false;
  for (let i = 0; i < 6 && !done; i++) done = (await b.finalize()).body.finalized === true;
  t.ok(done);
  t.same(rulesOf(a), ['tcp/22'], 'only the foreign rule is left');
  t.same(a.firewall.dropletIds, [BASTION], 'only the foreign droplet is left');
  t.equal(a.fake.model.reservedIPs.size, 0, 'both IPs released');
});

t.test('finalize Delete releases an IP known only through the create intent (answer lost) and sees it gone in the same call', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  await w.sync(); // records the intent
  const lost: Fault = { lose: true };
  w.fake.fault('reservedIPs_create', lost);
  await w.sync();
  t.equal(lost.times, 0, 'the create answer was lost');
  t.equal(w.status.address, undefined, 'status knows only the intent');
  t.ok(w.status.createIntent);
  const [created] = [...w.fake.model.reservedIPs.keys()];
  w.clock.advance(91); // past the intent's settle time: nothing else of ours can land any more
  const done = await w.finalize();
  t.equal(done.body.finalized, true, `released and observed gone in one call: ${JSON.stringify(done.body.status.steps)}`);
  t.equal(w.fake.model.reservedIPs.has(created!), false);
});
