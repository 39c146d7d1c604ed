/**
 * The per-project read cache on Hetzner Cloud, against the fake API with the production client
 * configuration: converged syncs of several RoutedIPs share one Floating IP listing (by the uid
 * label key) and one read of the firewall per TTL (no action reads), write nothing, and keep
 * their status; console drift is noticed in the first sync after the TTL; a failover still
 * starts in the sync that sees the holder go.
 */
import t from 'tap';
import { DEFAULT_READ_CACHE_SECONDS } from '../../src/issuers/session.js';
import { appliedServers, condition, FOREIGN_RULES, HetznerWorld, rulesOf, serverOf } from './world.js';

const gets = (w: HetznerWorld) => w.fake.requests.filter((r) => r.startsWith('GET'));

t.test('converged syncs of every RoutedIP of a project share the listings per TTL and write nothing', async (t) => {
  const a = await new HetznerWorld().start(t);
  const b = a.join('second');
  for (let i = 0; i < 8; i++) {
    await a.sync();
    await b.sync();
  }
  t.equal(condition(a.status, 'Ready')?.status, 'True');
  t.equal(condition(b.status, 'Ready')?.status, 'True');
  const [statusA, statusB] = [a.status, b.status];
  a.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  a.fake.requests.length = 0;
  for (let i = 0; i < 10; i++) {
    await a.sync();
    await b.sync();
  }
  t.equal(a.fake.requests.filter((r) => !r.startsWith('GET')).length, 0, 'no write');
  const listings = gets(a).filter((r) => r.startsWith('GET /v1/floating_ips?'));
  t.equal(listings.length, 1, `one Floating IP listing for both: ${listings.join(' ')}`);
  t.equal(gets(a).filter((r) => r.startsWith('GET /v1/firewalls?')).length, 1, 'one firewall lookup for both');
  // No Floating IP's actions and no Firewall's actions: a cached pass leaves them out (it may
  // only confirm the previous status; src/issuers/hetzner/issuer.ts `leavesOutActions`).
  t.equal(gets(a).length, 2, `20 converged syncs, ${gets(a).length} reads: ${gets(a).join(' ')}`);
  t.same([a.status, b.status], [statusA, statusB], 'status unchanged');
});

for (const expired of [false, true]) {
  // Expired: every read of the cached pass goes to the cloud, but it leaves the actions out, so
  // it may still only confirm: the failover's first write follows reads of the actions.
  t.test(`failover with the cache ${expired ? 'expired' : 'warm'}: fresh reads, then the first failover write in the same sync`, async (t) => {
    const w = await new HetznerWorld().start(t);
    for (let i = 0; i < 4; i++) await w.sync();
    t.equal(condition(w.status, 'Ready')?.status, 'True');
    if (expired) w.clock.advance(DEFAULT_READ_CACHE_SECONDS);
    w.fake.requests.length = 0;
    const old = w.failHolder();
    await w.sync();
    // Hetzner applies a firewall to a server asynchronously: the new server joins the firewall in
    // this sync, and the assign follows once that is applied (availability order).
    const write = w.fake.requests.findIndex((r) => r.startsWith('POST'));
    t.ok(write > 0, `the failover starts in this sync: ${w.fake.requests.join(' ')}`);
    t.ok(w.fake.requests.slice(0, write).includes('GET /v1/floating_ips?label_selector=routedip.io%2Fuid%3Duid-public&page=1&per_page=50'), 'after a fresh read of our Floating IP');
    t.ok(w.fake.requests.slice(0, write).some((r) => /^GET \/v1\/floating_ips\/\d+\/actions/.test(r)), 'and of its actions');
    t.ok(w.fake.requests.slice(0, write).some((r) => /^GET \/v1\/firewalls\/\d+\/actions/.test(r)), "and of the firewall's running actions");
    await w.syncUntilReady();
    t.not(w.status.node, old);
  });
}

t.test('console drift is noticed in the first sync after the TTL, with no action read in converged syncs', async (t) => {
  const w = await new HetznerWorld().start(t);
  await w.syncUntilReady();
  for (let i = 0; i < 2; i++) await w.sync();
  const model = w.fake.model;
  /** One drift made in the console (its actions finished), then a TTL: the next sync must act on it. */
  const drift = async (what: string, make: () => void, repaired: () => boolean) => {
    await w.sync();
    const before = w.status;
    make();
    model.completeActions();
    w.clock.advance(DEFAULT_READ_CACHE_SECONDS);
    w.fake.requests.length = 0;
    await w.sync();
    const wrote = w.fake.requests.some((r) => !r.startsWith('GET'));
    t.ok(wrote || JSON.stringify(w.status) !== JSON.stringify(before), `${what}: noticed in the first sync after the TTL (${w.fake.requests.join(' ')})`);
    await w.syncUntilReady();
    model.completeActions();
    await w.syncUntilReady();
    t.ok(repaired(), `${what}: repaired`);
  };
  await drift('Floating IP unassigned', () => void model.unassign(w.floatingIP!.id), () => w.floatingIP?.server === serverOf(w.status.node));
  const to = w.status.node === 'n3' ? 'n2' : 'n3';
  await drift(`Floating IP moved to ${to}`, () => void model.assign(w.floatingIP!.id, serverOf(to)!), () => w.floatingIP?.server === serverOf(w.status.node) && appliedServers(w).includes(serverOf(w.status.node)!));
  await drift('holder taken out of the firewall', () => void model.removeFrom(w.firewall.id, [serverOf(w.status.node)!]), () => appliedServers(w).includes(serverOf(w.status.node)!));
  const ours = rulesOf(w);
  await drift('rules replaced', () => void model.setRules(w.firewall.id, FOREIGN_RULES), () => JSON.stringify(rulesOf(w)) === JSON.stringify(ours));
});
