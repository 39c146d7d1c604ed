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
 * oldest with 503.)
 */
import t from 'tap';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { ScriptedWorld } from './world.js';

const MiB = 1 << 20;

/** An HTTP/1.1 POST /sync of `body` over its own socket, sent in two parts: `first` bytes, then the rest on `go`. */
function pacedCall(port: number, body: Buffer, first: number, go: Promise<void>) {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const write = (b: Buffer) => new Promise<void>((resolve) => socket.write(b, () => resolve()));
  const sentFirst = new Promise<void>((resolve) =>
    socket.once('connect', () => {
      socket.write(`POST /sync HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`);
      void write(body.subarray(0, first)).then(resolve);
    }),
  );
  const done = (async () => {
    await sentFirst;
    await go;
    await write(body.subarray(first));
    await closed;
    const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
    return status === '200' ? 200 : `${status ?? 'no answer'} ${answer.split('\r\n\r\n')[1]?.slice(0, 200) ?? ''}`;
  })();
  return { socket, sentFirst, done };
}

/** Resolves once GET /metrics reports a hook call waiting for room (never, for a service without that gauge). */
async function callsWaiting(base: string, stop: { stopped: boolean }): Promise<void> {
  while (!stop.stopped) {
    const res = await request(`${base}/metrics`);
    const text = await res.body.text();
    if (Number(/^routedip_hook_calls_waiting (\d+)/m.exec(text)?.[1] ?? 0) > 0) return;
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
  await Promise.race([Promise.all(calls.map((c) => c.sentFirst)), callsWaiting(base, stop)]);
  stop.stopped = true;
  release();
  t.same(await Promise.all(calls.map((c) => c.done)), [200, 200, 200, 200, 200]);
});
