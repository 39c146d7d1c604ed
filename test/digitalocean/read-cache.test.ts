/**
 * The per-account read cache on DigitalOcean, against the fake API with the production client
 * configuration: converged syncs of several RoutedIPs share one listing per TTL and write
 * nothing; concurrent syncs share one read in flight; our own writes drop the cached listings;
 * a stale cached listing never decides a write or a claim (everything that would act or change
 * status is read again fresh); a failover still assigns in the sync that sees the holder go.
 */
import t from 'tap';
import { createDigitalOceanClient } from '../../src/issuers/digitalocean/client.js';
import { DEFAULT_RESERVE, DEFAULT_TIMEOUT_MS } from '../../src/issuers/digitalocean/index.js';
import { RateBudget } from '../../src/issuers/rate-budget.js';
import { DEFAULT_READ_CACHE_SECONDS, Sessions, unboundedSession } from '../../src/issuers/session.js';
import { notReady } from '../fixtures/k8s.js';
import { startFake, TOKEN } from './helpers.js';
import { condition, DigitalOceanWorld, dropletOf } from './world.js';

const LISTINGS = ['GET /v2/firewalls', 'GET /v2/reserved_ips'];

/** Two RoutedIPs on one token, each seeing the other, both Ready. */
async function twoReady(t: Parameters<DigitalOceanWorld['start']>[0]) {
  const a = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  const b = a.sibling('second');
  const see = () => {
    a.related = [b.parent];
    b.related = [a.parent];
  };
  for (let i = 0; i < 8 && !(condition(a.status, 'Ready')?.status === 'True' && condition(b.status, 'Ready')?.status === 'True'); i++) {
    see();
    await a.sync();
    see();
    await b.sync();
  }
  // Two more rounds: the sync after the create reports the address found, not created.
  for (let i = 0; i < 2; i++) {
    see();
    await a.sync();
    see();
    await b.sync();
  }
  see();
  return { a, b, see };
}

t.test('converged syncs of every RoutedIP of a token share one listing per TTL and write nothing', async (t) => {
  const { a, b, see } = await twoReady(t);
  const statusA = a.status;
  const statusB = b.status;
  a.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  a.fake.requests.length = 0;
  const writes = a.fake.calls.length;
  for (let i = 0; i < 10; i++) {
    await a.sync();
    await b.sync();
    see();
  }
  t.same([...a.fake.requests].sort(), LISTINGS, '20 converged syncs: one listing of each kind');
  t.equal(a.fake.calls.length, writes, 'no write');
  t.same(a.status, statusA, 'status unchanged');
  t.same(b.status, statusB);
  a.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  await a.sync();
  await b.sync();
  t.same([...a.fake.requests].sort(), [...LISTINGS, ...LISTINGS].sort(), 'read again once the TTL passed');
});

t.test('concurrent syncs share one read in flight', async (t) => {
  const { a, b } = await twoReady(t);
  a.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  a.fake.requests.length = 0;
  // The listing is slow, so both syncs are surely waiting on it at once.
  a.fake.fault('reservedIPs_list', { delayMs: 300 });
  const [ra, rb] = await Promise.all([a.sync(), b.sync()]);
  t.equal(ra.statusCode, 200);
  t.equal(rb.statusCode, 200);
  t.same([...a.fake.requests].sort(), LISTINGS, 'one listing of each kind for both');
});

t.test('our own writes drop the token\'s cached listings, failed writes too; other calls share them', async (t) => {
  const fake = await startFake(t);
  const ip = fake.model.addReservedIP('nyc3', 101);
  fake.model.addFirewall('fw');
  const sessions = new Sessions();
  const client = () => {
    const session = unboundedSession(sessions);
    session.openAccount('digitalocean:test', () => undefined);
    session.reads = 'cached';
    return createDigitalOceanClient({ token: TOKEN, endpoint: fake.endpoint, requestTimeoutInMs: DEFAULT_TIMEOUT_MS, budget: new RateBudget({ reserve: DEFAULT_RESERVE, now: Date.now }), session });
  };
  const first = client();
  const second = client();
  const reads = () => fake.requests.filter((r) => r.startsWith('GET')).length;
  await first.listReservedIPs();
  await first.listFirewalls();
  t.equal((await second.getReservedIP(ip))?.droplet?.id, 101, 'a cached read of one IP is answered from the listing');
  await second.listFirewalls();
  t.equal(reads(), 2, 'another hook call on the same token shares the listings');
  await first.assignReservedIP(ip, 102);
  await second.listReservedIPs();
  await second.listFirewalls();
  t.equal(reads(), 4, 'both listings read again after our write');
  fake.fault('reservedIPsActions_post', { status: 500 });
  await t.rejects(first.assignReservedIP(ip, 103));
  await second.listReservedIPs();
  t.equal(reads(), 5, 'a failed write (it may have taken effect) drops them too');
});

t.test('a stale cached listing never decides a claim or a write: a new intent is read fresh', async (t) => {
  const a = await new DigitalOceanWorld().start(t, { actionReads: 0 });
  a.endpointsOn = ['n1'];
  await a.syncUntilReady();
  const b = a.sibling('second');
  b.endpointsOn = [];
  a.related = [b.parent];
  b.related = [a.parent];
  await b.sync();
  t.equal(condition(b.status, 'Assigned')?.reason, 'NoEligibleNode');
  // Someone puts a reserved IP on n3's droplet in the console: the token's cached listing
  // (younger than the TTL) does not show it.
  const theirs = a.fake.model.addReservedIP('nyc3', dropletOf('n3'));
  b.endpointsOn = ['n3'];
  for (let i = 0; i < 6; i++) {
    b.related = [a.parent];
    await b.sync();
    t.not(b.status.address, theirs, `sync ${i + 1}: their IP is never claimed`);
    const intent = b.status.createIntent;
    if (intent) t.ok(intent.knownAddresses.includes(theirs), 'an intent lists every address the region holds now');
    b.clock.advance(10);
  }
  t.equal(a.fake.model.reservedIPs.get(theirs)?.dropletId, dropletOf('n3'), 'their IP stays where it is');
  t.notOk(a.fake.mutations().some((m) => m.includes(theirs)), 'and is never touched');
});

t.test('failover with the cache warm: the sync that sees the holder go reads fresh and assigns', async (t) => {
  const w = await new DigitalOceanWorld().start(t, { actionReads: 1 });
  await w.syncUntilReady();
  await w.sync(); // a converged sync from the cache
  const old = w.status.node!;
  const address = w.status.address!;
  w.fake.requests.length = 0;
  w.nodes = w.nodes.map((n) => (n.metadata.name === old ? withNotReady(n) : n));
  const moving = await w.sync();
  t.match(moving.body.status.pendingAction, { type: 'assign' }, 'the assign is sent in this very sync');
  const assign = w.fake.requests.indexOf(`POST /v2/reserved_ips/${address}/actions`);
  t.ok(assign > 0);
  t.ok(w.fake.requests.slice(0, assign).includes(`GET /v2/reserved_ips/${address}`), 'after a fresh read of the IP');
  t.ok(w.fake.requests.slice(0, assign).includes('GET /v2/firewalls'), 'and of the firewall');
  await w.syncUntilReady();
  t.not(w.status.node, old);
});

function withNotReady<T>(n: T): T {
  const copy = structuredClone(n);
  notReady()(copy as never);
  return copy;
}
