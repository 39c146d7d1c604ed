/**
 * The per-account read cache on its own: answers kept for the TTL (on the app's clock), fresh
 * reads never served from it, concurrent reads shared, our own writes dropping what was read
 * before them (also a read still in flight across the write), failures never kept, and a read
 * shared with a call whose deadline cut it short sent again by the others.
 */
import t from 'tap';
import { ReadCache } from '../../src/issuers/read-cache.js';

/** A fetch that answers on demand and counts its calls. */
function gate<T>() {
  const pending: Array<{ resolve: (v: T) => void; reject: (e: Error) => void }> = [];
  let calls = 0;
  const fetch = () => {
    calls += 1;
    return new Promise<T>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { fetch, pending, get calls() { return calls; } };
}

const never = new AbortController().signal;

t.test('a stored answer serves cached reads for the TTL, then the next one reads again', async (t) => {
  let now = 0;
  const cache = new ReadCache({ ttlMs: 60_000, now: () => now });
  let n = 0;
  const fetch = async () => ++n;
  t.equal(await cache.read('k', 'cached', never, fetch), 1);
  now = 59_999;
  t.equal(await cache.read('k', 'cached', never, fetch), 1, 'still within the TTL');
  now = 60_000;
  t.equal(await cache.read('k', 'cached', never, fetch), 2, 'read again at the TTL');
  t.same(cache.stats, { fetched: 2, hits: 1, joined: 0 });
});

t.test('a fresh read never takes a stored answer, and stores its own', async (t) => {
  const cache = new ReadCache({ ttlMs: 60_000, now: () => 0 });
  let n = 0;
  const fetch = async () => ++n;
  await cache.read('k', 'cached', never, fetch);
  t.equal(await cache.read('k', 'fresh', never, fetch), 2);
  t.equal(await cache.read('k', 'cached', never, fetch), 2, 'the fresh answer serves later cached reads');
});

t.test('concurrent reads of one key share one call, in either mode', async (t) => {
  const cache = new ReadCache({ ttlMs: 60_000, now: () => 0 });
  const g = gate<string>();
  const reads = [cache.read('k', 'cached', never, g.fetch), cache.read('k', 'cached', never, g.fetch), cache.read('k', 'fresh', never, g.fetch)];
  g.pending[0]!.resolve('listing');
  t.same(await Promise.all(reads), ['listing', 'listing', 'listing']);
  t.equal(g.calls, 1);
  t.same(cache.stats, { fetched: 1, hits: 0, joined: 2 });
  await cache.read('other', 'cached', never, async () => 'x');
  t.equal(cache.stats.fetched, 2, 'other keys are read on their own');
});

t.test('our own write drops stored answers, and a read in flight across it is neither joined nor stored', async (t) => {
  const cache = new ReadCache({ ttlMs: 60_000, now: () => 0 });
  let n = 0;
  await cache.read('k', 'cached', never, async () => ++n);
  cache.invalidate();
  t.equal(await cache.read('k', 'cached', never, async () => ++n), 2, 'read again after the write');

  const g = gate<string>();
  const before = cache.read('k2', 'cached', never, g.fetch);
  cache.invalidate(); // a write answered while that read was in flight
  const after = cache.read('k2', 'cached', never, g.fetch);
  t.equal(g.calls, 2, 'a read after the write does not join the one sent before it');
  g.pending[0]!.resolve('before the write');
  g.pending[1]!.resolve('after the write');
  t.equal(await before, 'before the write');
  t.equal(await after, 'after the write');
  t.equal(await cache.read('k2', 'cached', never, async () => 'unused'), 'after the write', 'only the read sent after the write was stored');
});

t.test('failures are shared with the readers waiting on them but never stored', async (t) => {
  const cache = new ReadCache({ ttlMs: 60_000, now: () => 0 });
  const g = gate<string>();
  const a = cache.read('k', 'cached', never, g.fetch);
  const b = cache.read('k', 'cached', never, g.fetch);
  g.pending[0]!.reject(new Error('HTTP 500'));
  await t.rejects(a, /HTTP 500/);
  await t.rejects(b, /HTTP 500/);
  t.equal(await cache.read('k', 'cached', never, async () => 'ok'), 'ok', 'the next read is sent');
});

t.test('a shared read cut short by its own caller\'s deadline is sent again by a caller still in time', async (t) => {
  const cache = new ReadCache({ ttlMs: 60_000, now: () => 0 });
  const first = new AbortController();
  const g = gate<string>();
  const a = cache.read('k', 'cached', first.signal, g.fetch);
  const b = cache.read('k', 'cached', never, g.fetch);
  first.abort();
  g.pending[0]!.reject(new Error('aborted by the first call'));
  await t.rejects(a, /aborted/);
  await Promise.resolve();
  await new Promise((r) => setImmediate(r));
  t.equal(g.calls, 2, 'the second caller reads on its own');
  g.pending[1]!.resolve('fresh listing');
  t.equal(await b, 'fresh listing');
});

t.test('a caller waiting on someone else\'s read stops at its own deadline', async (t) => {
  const cache = new ReadCache({ ttlMs: 60_000, now: () => 0 });
  const mine = new AbortController();
  const g = gate<string>();
  const a = cache.read('k', 'cached', never, g.fetch);
  const b = cache.read('k', 'cached', mine.signal, g.fetch);
  mine.abort(new Error('deadline'));
  await t.rejects(b, /deadline/);
  g.pending[0]!.resolve('late');
  t.equal(await a, 'late');
});

t.test('TTL 0 stores nothing but still shares reads in flight', async (t) => {
  const cache = new ReadCache({ ttlMs: 0, now: () => 0 });
  const g = gate<number>();
  const reads = [cache.read('k', 'cached', never, g.fetch), cache.read('k', 'cached', never, g.fetch)];
  g.pending[0]!.resolve(1);
  t.same(await Promise.all(reads), [1, 1]);
  t.equal(await cache.read('k', 'cached', never, async () => 2), 2);
});
