/**
 * A burst of large legitimate calls is served, not refused (issue 10), over real HTTP on loopback
 * with the production defaults (64 MiB body limit, 128 MiB of calls in the service at once):
 * five concurrent 40 MiB syncs (200 MiB, as a Metacontroller with a few more workers sends for a
 * cluster of thousands of Nodes) are all answered 200. The calls that do not fit wait with their
 * sockets unread (`routedip_hook_calls_waiting`) until answered ones free room.
 *
 * The clients are paced so that the burst really overlaps: each sends 30 MiB, and finishes its
 * body only once all five have sent theirs (150 MiB arriving at once) or the service says calls
 * wait unread. (Before, the service read every upload at once and, past 128 MiB, aborted the
 * oldest with 503 UPLOADS_BUSY.)
 */
import t from 'tap';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { ScriptedWorld } from './world.js';

const MiB = 1 << 20;

/**
 * An HTTP/1.1 POST /sync of `body` over its own socket, sent in two parts: `first` bytes, then the
 * rest on `go` (at once, or in `pieces` pieces `everyMs` apart).
 */
function pacedCall(port: number, body: Buffer, first: number, go: Promise<void>, steady?: { pieces: number; everyMs: number }) {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const write = (b: Buffer) => new Promise<void>((resolve) => socket.write(b, () => resolve()));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const sentFirst = new Promise<void>((resolve) =>
    socket.once('connect', () => {
      socket.write(`POST /sync HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`);
      void write(body.subarray(0, first)).then(resolve);
    }),
  );
  const done = (async () => {
    await sentFirst;
    await go;
    const rest = body.subarray(first);
    const size = Math.ceil(rest.length / (steady?.pieces ?? 1));
    for (let at = 0; at < rest.length; at += size) {
      if (at > 0 && steady) await sleep(steady.everyMs);
      await write(rest.subarray(at, at + size));
    }
    await closed;
    const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
    return status === '200' ? 200 : `${status ?? 'no answer'} ${answer.split('\r\n\r\n')[1]?.slice(0, 200) ?? ''}`;
  })();
  return { socket, connected, sentFirst, done };
}

/** Resolves once GET /metrics reports `metric` at `atLeast` or more (never, for a service without it), unless stopped. */
async function metricReaches(base: string, metric: string, atLeast: number, stop: { stopped: boolean } = { stopped: false }): Promise<void> {
  while (!stop.stopped) {
    const res = await request(`${base}/metrics`);
    const text = await res.body.text();
    if (Number(new RegExp(`^${metric} (\\d+)`, 'm').exec(text)?.[1] ?? 0) >= atLeast) return;
    await sleep(50);
  }
}

t.test('five concurrent 40 MiB syncs past the 128 MiB bound are all answered 200', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const base = await w.app.listen({ port: 0, host: '127.0.0.1' });
  const port = Number(new URL(base).port);
  const body = Buffer.from(JSON.stringify({ ...w.request(), controller: { padding: 'x'.repeat(40 * MiB) } }));
  let release!: () => void;
  const go = new Promise<void>((resolve) => (release = resolve));
  const calls = Array.from({ length: 5 }, () => pacedCall(port, body, 30 * MiB, go));
  t.teardown(() => calls.forEach((c) => c.socket.destroy()));
  const stop = { stopped: false };
  await Promise.race([Promise.all(calls.map((c) => c.sentFirst)), metricReaches(base, 'routedip_hook_calls_waiting', 1, stop)]);
  stop.stopped = true;
  release();
  t.same(await Promise.all(calls.map((c) => c.done)), [200, 200, 200, 200, 200]);
});

t.test('two 64 MiB calls arriving slowly but steadily fill the bound for longer than half the body timeout: neither gives way to the call waiting', async (t) => {
  const w = await new ScriptedWorld().start(t);
  const base = await w.app.listen({ port: 0, host: '127.0.0.1' });
  const port = Number(new URL(base).port);
  // Each exactly the 64 MiB body limit: together they hold the whole 128 MiB bound.
  const bare = JSON.stringify({ ...w.request(), controller: { padding: '' } }).length;
  const body = Buffer.from(JSON.stringify({ ...w.request(), controller: { padding: 'x'.repeat(64 * MiB - bare) } }));
  t.equal(body.length, 64 * MiB);
  // 32 pieces, one every 190 ms: about 6 s per body, past half the 10 s body timeout, but on a
  // pace that finishes well within it (a busy cluster network or a saturated replica, not a trickle).
  const steady = [0, 1].map(() => pacedCall(port, body, 0, Promise.resolve(), { pieces: 32, everyMs: 190 }));
  t.teardown(() => steady.forEach((c) => c.socket.destroy()));
  await metricReaches(base, 'routedip_hook_bytes_in_flight', 2 * body.length);
  const stop = { stopped: false };
  const small = (async () => {
    await metricReaches(base, 'routedip_hook_calls_waiting', 1, stop);
    return 'waited';
  })();
  const meanwhile = await request(`${base}/sync`, { method: 'POST', body: JSON.stringify(w.request()), headers: { 'content-type': 'application/json' } });
  stop.stopped = true;
  await meanwhile.body.dump();
  t.equal(await Promise.race([small, Promise.resolve('not seen')]), 'waited', 'the small call waited for room');
  t.same(await Promise.all(steady.map((c) => c.done)), [200, 200], 'the steady uploads are served');
  t.equal(meanwhile.statusCode, 200, 'and the call that waited is served after them');
});
