/**
 * The per-project read cache on Hetzner Cloud, against the fake API with the production client
 * configuration: converged syncs of several RoutedIPs share one Floating IP listing (by the uid
 * label key) and one read of the firewall per TTL, write nothing, and keep their status; a
 * failover still starts in the sync that sees the holder go.
 */
import t from 'tap';
import { DEFAULT_READ_CACHE_SECONDS } from '../../src/issuers/session.js';
import { condition, HetznerWorld } from './world.js';

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
  t.ok(gets(a).length <= 6, `20 converged syncs, ${gets(a).length} reads: ${gets(a).join(' ')}`);
  t.same([a.status, b.status], [statusA, statusB], 'status unchanged');
});

t.test('failover with the cache warm: fresh reads, then the first failover write in the same sync', async (t) => {
  const w = await new HetznerWorld().start(t);
  for (let i = 0; i < 4; i++) await w.sync();
  t.equal(condition(w.status, 'Ready')?.status, 'True');
  w.fake.requests.length = 0;
  const old = w.failHolder();
  await w.sync();
  // Hetzner applies a firewall to a server asynchronously: the new server joins the firewall in
  // this sync, and the assign follows once that is applied (availability order).
  const write = w.fake.requests.findIndex((r) => r.startsWith('POST'));
  t.ok(write > 0, `the failover starts in this sync: ${w.fake.requests.join(' ')}`);
  t.ok(w.fake.requests.slice(0, write).includes('GET /v1/floating_ips?label_selector=routedip.io%2Fuid%3Duid-public&page=1&per_page=50'), 'after a fresh read of our Floating IP');
  await w.syncUntilReady();
  t.not(w.status.node, old);
});
