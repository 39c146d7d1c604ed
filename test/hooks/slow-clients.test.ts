/**
 * Slow uploads never starve Metacontroller's calls (issue 7 item 6), over real HTTP on loopback
 * with the production defaults of buildApp (64 hook slots, 64 MiB body limit, 128 MiB of bodies
 * in flight, 10 s body timeout):
 * - clients trickling their bodies hold no hook slot, so 70 of them do not push a real call into 429;
 * - when slow uploads fill the bytes-in-flight bound, the oldest gives way (408, BODY_TOO_SLOW),
 *   and a large real call still gets through;
 * - a body not received within the body timeout is answered 408 and its connection closed.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import type { Test } from 'tap';
import { ScriptedWorld } from './world.js';

/** A raw HTTP/1.1 client that sends headers declaring `length` bytes, then `first` bytes of them. */
function slowUpload(port: number, length: number, first: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const sent = new Promise<void>((resolve) => {
    socket.once('connect', () => {
      socket.write(`POST /sync HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`);
      // A body that is JSON-looking but never finished.
      const chunk = Buffer.alloc(Math.min(first, 1 << 20), 0x20);
      let left = first;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void socket.once('drain', pump);
        }
        resolve();
      };
      pump();
    });
  });
  return { socket, sent, closed, status: () => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), answer: () => answer };
}

async function started(t: Test) {
  const w = await new ScriptedWorld().start(t);
  const base = await w.app.listen({ port: 0, host: '127.0.0.1' });
  const port = Number(new URL(base).port);
  const metacontroller = async (payload = JSON.stringify(w.request())) => {
    const res = await request(`${base}/sync`, { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } });
    await res.body.dump();
    return res.statusCode;
  };
  return { w, port, metacontroller };
}

t.test('70 clients trickling their bodies hold no hook slot: Metacontroller is answered 200', async (t) => {
  const { port, metacontroller } = await started(t);
  const slow = Array.from({ length: 70 }, () => slowUpload(port, 1 << 20, 1024));
  t.teardown(() => slow.forEach((s) => s.socket.destroy()));
  await Promise.all(slow.map((s) => s.sent));
  for (let i = 0; i < 3; i++) t.equal(await metacontroller(), 200, `call ${i + 1} while 70 uploads trickle`);
});

t.test('slow uploads past the bytes-in-flight bound: the oldest gives way, a large real call gets through', async (t) => {
  const { port, metacontroller, w } = await started(t);
  const MiB = 1 << 20;
  // Three 44 MiB uploads that stall 1 MiB short: 129 MiB asked of a 128 MiB bound.
  const slow: ReturnType<typeof slowUpload>[] = [];
  for (let i = 0; i < 3; i++) {
    const s = slowUpload(port, 44 * MiB, 43 * MiB);
    slow.push(s);
    await s.sent;
  }
  t.teardown(() => slow.forEach((s) => s.socket.destroy()));
  await slow[0]?.closed;
  t.equal(slow[0]?.status(), 408, `the oldest upload gave way: ${slow[0]?.answer().split('\r\n')[0]}`);
  t.match(slow[0]?.answer(), /BODY_TOO_SLOW/);
  // A real call padded to 48 MiB (5,000 Nodes are 15-70 MiB) needs room the two stalled uploads hold.
  const large = JSON.stringify({ ...w.request(), controller: { padding: 'x'.repeat(48 * MiB) } });
  t.equal(await metacontroller(large), 200, 'the large real call is answered');
  await slow[1]?.closed;
  // It gave way to the large call (BODY_TOO_SLOW), or its body timeout came first on a loaded machine.
  t.equal(slow[1]?.status(), 408, `the next oldest is gone: ${slow[1]?.answer().split('\r\n')[0]}`);
  t.equal(await metacontroller(), 200, 'and small calls go on');
});

t.test('a body not received within the body timeout is answered 408 and the connection closed', async (t) => {
  const { port, metacontroller } = await started(t);
  const stalled = slowUpload(port, 4096, 100);
  await stalled.sent;
  t.equal(await metacontroller(), 200, 'others are served meanwhile');
  await stalled.closed;
  t.equal(stalled.status(), 408, `${stalled.answer().split('\r\n')[0]}`);
  t.match(stalled.answer(), /BODY_TIMEOUT/);
});
