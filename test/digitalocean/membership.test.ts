/**
 * Cloud Firewall membership on DigitalOcean (issue 8 item 3): a firewall applies to at most 10
 * individual Droplets, and the add past that is refused with a 422 that must read as a clear,
 * fixable condition (FirewallDropletLimit, pointing at tag membership), not an invalid request.
 * Tag membership (`spec.digitalocean.firewallTag`): the holder carries the issuer's tag, the
 * firewall carries the tag once, and nothing else of the firewall is touched.
 */
import t from 'tap';
import type { Node } from '../../src/schemas/kubernetes.js';
import { DEFAULT_READ_CACHE_SECONDS } from '../../src/issuers/session.js';
import { notReady } from '../fixtures/k8s.js';
import { BASTION, condition, DigitalOceanWorld, dropletOf } from './world.js';

const notReadyNode = (n: Node): Node => {
  const copy = structuredClone(n);
  notReady()(copy);
  return copy;
};

t.test('droplet-id membership: a firewall already at 10 Droplets gives FirewallDropletLimit, pointing at firewallTag', async (t) => {
  const w = await new DigitalOceanWorld().start(t);
  // Nine more foreign Droplets: with the bastion, the firewall is full.
  const foreign = Array.from({ length: 9 }, (_, i) => w.fake.model.addDroplet(200 + i, 'nyc3', `web-${i}`).id);
  w.firewall.dropletIds.push(...foreign);
  await w.sync(); // records the create intent and the firewall claims; the next sync acts
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  const step = w.status.steps.find((s) => s.name === 'AddRoutedIPFirewallNode');
  t.match(step, { outcome: 'failed', detail: /^FirewallDropletLimit: / });
  t.match(condition(w.status, 'FirewallReady'), { status: 'False', reason: 'FirewallDropletLimit', message: /firewallTag/ });
  t.match(condition(w.status, 'Ready'), { status: 'False', reason: 'FirewallDropletLimit' });
  t.same(w.firewall.dropletIds.sort((a, b) => a - b), [BASTION, ...foreign].sort((a, b) => a - b), 'nothing of the firewall changed');
  t.notOk(w.fake.mutations().includes('POST /v2/reserved_ips'), 'no address before the node is protected');
  t.same(w.fake.violations, []);
});

const TAG = 'routedip:ingress';
/** Droplets carrying `tag`, sorted. */
const taggedWith = (w: DigitalOceanWorld, tag = TAG) => [...w.fake.model.droplets.values()].filter((d) => d.tags.includes(tag)).map((d) => d.id).sort((a, b) => a - b);

t.test('tag membership: the holder is tagged and the firewall carries the tag once; a full firewall does not matter', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  w.firewallTag = TAG;
  const foreign = Array.from({ length: 9 }, (_, i) => w.fake.model.addDroplet(200 + i, 'nyc3', `web-${i}`).id);
  w.firewall.dropletIds.push(...foreign);
  w.firewall.tags.push('office');
  w.fake.model.tags.add('office');
  await w.syncUntilReady();
  const holder = dropletOf(w.status.node)!;
  t.same(taggedWith(w), [holder], 'only the holder carries the tag');
  t.same(w.firewall.tags, ['office', TAG], 'the tag is added next to the firewall\'s own');
  t.same(w.firewall.dropletIds.sort((a, b) => a - b), [BASTION, ...foreign].sort((a, b) => a - b), 'the firewall\'s droplets are untouched');
  const fw = w.firewall.id;
  t.same(w.fake.mutations().filter((m) => !m.includes('/rules') && !m.includes('reserved_ips')), [
    `POST /v2/tags/${TAG}/resources`, // 404: the tag does not exist yet
    'POST /v2/tags',
    `POST /v2/tags/${TAG}/resources`,
    `POST /v2/firewalls/${fw}/tags`,
  ]);
  t.match(w.status.firewall, { addedNodes: [String(holder)] });
  const before = w.fake.calls.length;
  await w.sync();
  t.equal(w.fake.calls.length, before, 'a converged sync makes zero mutating calls');
  t.same(w.fake.violations, []);
});

t.test('tag membership failover: the new holder is tagged before the move, the old one untagged after it', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  w.firewallTag = TAG;
  await w.syncUntilReady();
  const old = w.status.node!;
  w.nodes = w.nodes.map((n) => (n.metadata.name === old ? notReadyNode(n) : n));
  const before = w.fake.calls.length;
  await w.syncUntilReady();
  const now = w.status.node!;
  t.not(now, old);
  t.same(taggedWith(w), [dropletOf(now)], 'only the new holder carries the tag');
  t.same(w.fake.mutations().slice(before), [`POST /v2/tags/${TAG}/resources`, `POST /v2/reserved_ips/${w.status.address}/actions`, `DELETE /v2/tags/${TAG}/resources`], 'tag, move, untag; the firewall keeps its tag');
  t.same(w.fake.calls.slice(before).map((c) => c.body), [
    { resources: [{ resource_id: String(dropletOf(now)), resource_type: 'droplet' }] },
    { type: 'assign', droplet_id: dropletOf(now) },
    { resources: [{ resource_id: String(dropletOf(old)), resource_type: 'droplet' }] },
  ]);
  t.same(w.firewall.tags, [TAG]);
  t.ok(w.firewall.dropletIds.includes(BASTION), 'the foreign droplet stays');
  t.same(w.fake.violations, []);
});

t.test('tag membership: a droplet someone else tagged is ours by mark; finalize (Delete) untags, the firewall keeps the tag', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  w.firewallTag = TAG;
  await w.syncUntilReady();
  const holder = dropletOf(w.status.node)!;
  const stray = [101, 102, 103].find((id) => id !== holder)!;
  w.fake.model.droplets.get(stray)!.tags.push(TAG);
  // A console change shows once the token's cached listings are older than the read-cache TTL.
  w.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  await w.sync();
  t.same(taggedWith(w), [holder], 'a tagged droplet that does not hold the IP is untagged: the tag is the issuer\'s mark');
  await w.finalizeUntilDone();
  t.same(taggedWith(w), [], 'finalize removed the tag from the holder');
  t.same(w.firewall.tags, [TAG], 'the firewall\'s tag stays (other RoutedIPs of the issuer may use it)');
  t.same(w.fake.violations, []);
});

t.test('the issuer schema takes DigitalOcean tag names only', async (t) => {
  const { Value } = await import('@sinclair/typebox/value');
  const { DigitalOceanIssuerSpecSchema } = await import('../../src/schemas/routed-ip.js');
  const spec = (firewallTag: string) => ({ region: 'nyc3', tokenSecretRef: { name: 'do-api' }, firewallTag });
  for (const ok of ['routedip', 'k8s:ingress-public', 'A_b-1', 'x'.repeat(255)]) t.ok(Value.Check(DigitalOceanIssuerSpecSchema, spec(ok)), ok.slice(0, 20));
  for (const bad of ['', 'with space', 'dots.not', 'slash/no', 'x'.repeat(256)]) t.notOk(Value.Check(DigitalOceanIssuerSpecSchema, spec(bad)), JSON.stringify(bad).slice(0, 20));
});

t.test('a listing past 50 pages of 200 fails visibly (ListingTruncated) instead of deciding on a partial account', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { reservedIPLimit: 1000, endlessLists: true });
  for (let i = 0; i < 200; i++) w.fake.model.addReservedIP('nyc3', null, `203.0.113.${i}`);
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  t.match(condition(w.status, 'Ready'), { status: 'False', reason: 'ListingTruncated', message: /more than 10000 objects \(50 pages of 200\)/ });
  t.equal(w.fake.requests.filter((r) => r === 'GET /v2/reserved_ips').length, 50, 'exactly the bounded number of pages was read');
  t.notOk(w.fake.mutations().includes('POST /v2/reserved_ips'), 'nothing created on a partial view');
  t.same(w.fake.violations, []);
});

t.test('tag membership: converged syncs read the tagged Droplets once per read-cache TTL, shared by the token; drift is repaired after it', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  w.firewallTag = TAG;
  await w.syncUntilReady();
  await w.sync();
  const settled = w.status;
  const holder = dropletOf(settled.node)!;
  w.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  w.fake.requests.length = 0;
  const writes = w.fake.calls.length;
  for (let i = 0; i < 30; i++) await w.sync();
  t.same([...w.fake.requests].map((r) => r.replace(/\?.*/, '')).sort(), ['GET /v2/droplets', 'GET /v2/firewalls', 'GET /v2/reserved_ips'], '30 converged syncs: one listing of each kind (was one tagged-Droplet listing per sync)');
  t.equal(w.fake.calls.length, writes, 'no write');
  t.same(w.status, settled, 'status unchanged');
  // Someone removes the tag from the holder in the console: noticed once the TTL passed.
  w.fake.model.droplets.get(holder)!.tags = w.fake.model.droplets.get(holder)!.tags.filter((x) => x !== TAG);
  w.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  await w.sync();
  t.same(taggedWith(w), [holder], 'the holder is tagged again in the first sync after the TTL');
});

t.test('tag membership: a sibling moving changes no other status, so the others stay on shared cached reads (mass failover)', async (t) => {
  const a = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  a.firewallTag = TAG;
  const b = a.sibling('rip-2');
  const both = async () => {
    for (const [self, other] of [[a, b], [b, a]] as const) {
      self.related = [other.parent];
      await self.sync();
    }
  };
  for (let i = 0; i < 6; i++) await both();
  t.not(a.status.node, b.status.node, 'the election spread the two');
  t.same(b.status.firewall?.addedNodes, [String(dropletOf(b.status.node))], "b records its own holder only, not every tagged Droplet");
  const settled = b.status;
  const old = a.status.node!;
  const failed = a.nodes.findIndex((n) => n.metadata.name === old);
  a.nodes[failed] = notReadyNode(a.nodes[failed]!);
  for (let i = 0; i < 4; i++) await both();
  t.not(a.status.node, old, 'a moved');
  t.same(taggedWith(a), [dropletOf(a.status.node)!, dropletOf(b.status.node)!].sort((x, y) => x - y), 'the tag follows both holders');
  t.same(b.status, settled, "b's status did not change while a moved");
  const before = a.fake.requests.length;
  b.related = [a.parent];
  await b.sync();
  t.notOk(a.fake.requests.slice(before).some((r) => r.startsWith('GET /v2/reserved_ips/')), 'b confirmed from the shared listings (no fresh read of its own address)');
  t.same(a.fake.violations, []);
});
