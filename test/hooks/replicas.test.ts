/**
 * Two service instances behind one port, without the Service's ClientIP pin: correctness must not
 * depend on one replica's in-process locks (issue 12 item 5).
 *
 * A TCP balancer on an ephemeral port sends each connection to the next replica in turn, and —
 * like a path that loses the FIN — keeps the upstream connection open when Metacontroller gives
 * up on a call, so the abandoned call on one replica is not told and keeps running while the
 * retry runs on the other. Metacontroller is played with its real numbers: a 10 s hook timeout
 * (the production HOOK_TIMEOUT_SECONDS) and an immediate requeue with the parent status it last
 * wrote (the abandoned call's answer never arrived).
 *
 * The cloud is the memory cloud shared by both replicas, slowed per call. Replica A's first
 * FindRoutedIP takes 9 s and its create 2 s: without the deadline (8 s), A would find nothing at
 * 9 s and land a create at 11 s, after replica B's retry (from 10 s) has found nothing and made
 * its own — two addresses for one RoutedIP. With it, A starts no write after 8 s.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import http from 'node:http';
import type { IssuerRegistry } from '../../src/issuers/registry.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import type { RoutedIPIssuer } from '../../src/issuers/issuer.js';
import type { SyncResponse } from '../../src/schemas/metacontroller.js';
import { buildTestApp, type Teardown } from '../helpers/app.js';
import { ACCOUNT, condition, ScriptedWorld } from './world.js';

/** The production hook timeout (metacontroller/*.yaml `timeout: 10s`, HOOK_TIMEOUT_SECONDS). */
const HOOK_TIMEOUT_MS = 10_000;

/**
 * A memory registry whose every issuer call first waits `delay(method)` ms; like the SDK and
 * axios, the wait ends early when the call's session signal aborts (the request is abandoned).
 */
function slowRegistry(w: ScriptedWorld, delay: (method: string) => number): IssuerRegistry {
  const base = createIssuerRegistry({ memoryCloud: w.cloud });
  return {
    memory: (context) => {
      const issuer = base.memory!(context) as unknown as Record<string, unknown>;
      const slowed: Record<string, unknown> = {};
      for (const [method, fn] of Object.entries(issuer)) {
        if (typeof fn !== 'function' || method === 'nodeTarget') {
          slowed[method] = fn;
          continue;
        }
        slowed[method] = async (...args: unknown[]) => {
          const ms = delay(method);
          if (ms > 0) await sleep(ms, undefined, { signal: context.session.signal }).catch(() => Promise.reject(context.session.deadlineError(method)));
          return (fn as (...a: unknown[]) => Promise<unknown>).apply(issuer, args);
        };
      }
      return slowed as unknown as RoutedIPIssuer;
    },
  };
}

/** POSTs `body` on a connection of its own (as each Metacontroller call may be), ending with `signal`. */
function post(url: string, body: string, signal: AbortSignal): Promise<{ statusCode: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, signal, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(signal.aborted ? signal.reason : err));
    req.end(body);
  });
}

/** A balancer on port 0 that alternates connections between `upstreams` and never forwards a client's close. */
async function balancer(t: Teardown, upstreams: readonly number[]): Promise<{ url: string; routed: number[] }> {
  const routed: number[] = [];
  const sockets = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer((client) => {
    const index = next++ % upstreams.length;
    routed.push(index);
    const upstream = net.connect(upstreams[index]!, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream, { end: false });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, routed };
}

t.test('an abandoned call on one replica and its retry on the other leave one address (no ClientIP pin)', async (t) => {
  const w = new ScriptedWorld();
  const firstFind = { pending: true };
  const slowA = slowRegistry(w, (method) => {
    if (method === 'findRoutedIP' && firstFind.pending) {
      firstFind.pending = false;
      return 9000;
    }
    return method === 'createRoutedIP' ? 2000 : 0;
  });
  const fast = createIssuerRegistry({ memoryCloud: w.cloud });
  const a = await buildTestApp(t, { registry: slowA, clock: w.clock.now });
  const b = await buildTestApp(t, { registry: fast, clock: w.clock.now });
  const ports = await Promise.all([a.app, b.app].map(async (app) => new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port));
  const lb = await balancer(t, ports.map(Number));

  // Metacontroller: a fresh connection per call, the hook timeout, requeue at once after it with
  // the status it last wrote (stale: the abandoned call's answer never arrived).
  const answers: Array<number | 'timeout'> = [];
  for (let i = 0; i < 8 && condition(w.status ?? { conditions: [] }, 'Ready')?.status !== 'True'; i++) {
    try {
      const res = await post(`${lb.url}/sync`, JSON.stringify(w.request()), AbortSignal.timeout(HOOK_TIMEOUT_MS));
      answers.push(res.statusCode);
      if (res.statusCode === 200) w.parent = { ...w.parent, status: (JSON.parse(res.body) as SyncResponse).status };
    } catch (err) {
      t.equal((err as Error).name, 'TimeoutError', 'only the hook timeout ends a call early');
      answers.push('timeout');
      await sleep(5);
    }
  }
  t.equal(condition(w.status, 'Ready')?.status, 'True', `converges (answers: ${answers.join(', ')}; replicas: ${lb.routed.join(', ')})`);
  t.ok(lb.routed.includes(0) && lb.routed.includes(1), 'both replicas served calls for the RoutedIP');
  // Let anything the abandoned call could still do land before counting.
  await sleep(3000);
  const ips = w.cloud.snapshot(ACCOUNT).ips;
  t.equal(ips.length, 1, `one address for the RoutedIP (${ips.map((ip) => ip.address).join(', ')})`);
  t.equal(ips[0]?.address, w.status.address, 'the one the status names');
});
