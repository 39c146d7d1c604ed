/**
 * Aborted hook calls (Metacontroller's hook timeout closes the connection) must give their
 * in-flight slot back: Fastify runs no `onResponse` for a request whose client went away, and a
 * counter released only there reached the limit after 64 timeouts and answered 429 for good.
 */
import t from 'tap';
import { request } from 'undici';
import type { IssuerContext, RoutedIPIssuer as Issuer } from '../../src/issuers/issuer.js';
import type { IssuerRegistry } from '../../src/issuers/registry.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { ScriptedWorld } from './world.js';

/** A memory registry of `w`'s cloud whose FindRoutedIP goes through `find` (given the real one and the call's context). */
function wrapFindRoutedIP(w: ScriptedWorld, find: (real: Issuer['findRoutedIP'], query: Parameters<Issuer['findRoutedIP']>[0], context: IssuerContext) => ReturnType<Issuer['findRoutedIP']>): IssuerRegistry {
  const base = createIssuerRegistry({ memoryCloud: w.cloud });
  return {
    memory: async (context) => {
      const issuer = await base.memory!(context);
      return { ...issuer, findRoutedIP: (query) => find((q) => issuer.findRoutedIP(q), query, context) };
    },
  };
}

/** A memory registry whose FindRoutedIP waits at a gate, counting the calls that reached it. */
function gatedRegistry(w: ScriptedWorld) {
  let entered = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const registry = wrapFindRoutedIP(w, async (real, query) => {
    entered += 1;
    for (const x of waiters.filter((x) => entered >= x.n)) x.resolve();
    await gate;
    return real(query);
  });
  return {
    registry,
    open: () => open(),
    reached: (n: number) => new Promise<void>((resolve) => (entered >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

t.test('64 aborted calls do not wedge the service in 429; /readyz reports saturation while it lasts', async (t) => {
  const w = new ScriptedWorld();
  const gated = gatedRegistry(w);
  const { buildTestApp } = await import('../helpers/app.js');
  const { app } = await buildTestApp(t, { registry: gated.registry, clock: w.clock.now });
  w.app = app;
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  // 64 different RoutedIPs: calls for one RoutedIP queue behind each other (per-RoutedIP lock).
  const post = (signal?: AbortSignal, i = 0) => {
    const body = w.request();
    body.parent = { ...body.parent, metadata: { ...body.parent.metadata, name: `rip-${i}`, uid: `uid-rip-${i}` } };
    return request(`${base}/sync`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, ...(signal ? { signal } : {}) });
  };

  const limit = 64; // the production default of buildApp
  // Count the hook answers whose connection closed before they were written (the server's view
  // of the abort); the handlers are released only once the server saw every one of them.
  let closed = 0;
  let allClosed!: () => void;
  const seen = new Promise<void>((resolve) => (allClosed = resolve));
  app.server.on('request', (req, res) => {
    if (req.url === '/sync') res.on('close', () => !res.writableFinished && ++closed === limit && allClosed());
  });
  const controllers = Array.from({ length: limit }, () => new AbortController());
  const calls = controllers.map((c, i) => post(c.signal, i).catch((err: unknown) => err));
  await gated.reached(limit);

  const over = await post(undefined, limit);
  t.equal(over.statusCode, 429, 'a 65th call is refused while 64 are in flight');
  t.equal(over.headers['retry-after'], '1');
  await over.body.dump();
  const saturated = await request(`${base}/readyz`);
  t.equal(saturated.statusCode, 503, '/readyz says the replica is saturated');
  t.same(await saturated.body.json(), { status: 'saturated' });

  for (const c of controllers) c.abort();
  t.ok((await Promise.all(calls)).every((r) => (r as Error).name === 'AbortError'), 'every client gave up');
  await seen;
  gated.open();

  // Every aborted call has given its slot back once the socket closed: poll the probe, bounded.
  let ready = 0;
  for (let i = 0; i < 200 && ready !== 200; i++) {
    const res = await request(`${base}/readyz`);
    ready = res.statusCode;
    await res.body.dump();
    if (ready !== 200) await new Promise((r) => setImmediate(r));
  }
  t.equal(ready, 200, '/readyz is ready again');
  const after = await post(undefined, limit + 1);
  t.equal(after.statusCode, 200, 'a new call is served, not 429');
  await after.body.dump();
  const metrics = await request(`${base}/metrics`);
  t.match(await metrics.body.text(), /routedip_hooks_in_flight 0/, 'the in-flight gauge is back to 0: each slot released exactly once');
});

t.test('a call Metacontroller gave up on stops its cloud work and frees its RoutedIP for the retry', async (t) => {
  const w = new ScriptedWorld();
  let blocked!: () => void;
  const entered = new Promise<void>((resolve) => (blocked = resolve));
  let first = true;
  let sawAbort = false;
  // The first FindRoutedIP hangs like a cloud request that never answers; like the SDK and axios,
  // it gives up when the call's session signal aborts.
  const registry = wrapFindRoutedIP(w, async (real, query, context) => {
    if (!first) return real(query);
    first = false;
    blocked();
    await new Promise<void>((_resolve, reject) =>
      context.session.signal.addEventListener('abort', () => {
        sawAbort = true;
        reject(context.session.deadlineError('FindRoutedIP'));
      }),
    );
    return undefined;
  });
  const { buildTestApp } = await import('../helpers/app.js');
  const { app } = await buildTestApp(t, { registry, clock: w.clock.now });
  const url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/sync`;
  const post = (signal?: AbortSignal) =>
    request(url, { method: 'POST', body: JSON.stringify(w.request()), headers: { 'content-type': 'application/json' }, ...(signal ? { signal } : {}) });
  const abandoned = new AbortController();
  const call = post(abandoned.signal).catch((err: unknown) => err);
  await entered;
  abandoned.abort();
  t.equal(((await call) as Error).name, 'AbortError');
  // Metacontroller requeues the key at once: the retry must not wait for the abandoned call.
  const retry = await post();
  t.equal(retry.statusCode, 200);
  type Answer = { status: { conditions: Array<{ type: string; status: string; reason: string }> } };
  // The retry records the firewall claims (its status write triggers the next sync at once), which acts.
  w.parent = { ...w.parent, status: ((await retry.body.json()) as Answer).status as never };
  const next = await post();
  const body = (await next.body.json()) as Answer;
  t.match(body.status.conditions.find((c) => c.type === 'Ready'), { status: 'True' }, 'the retry converged instead of waiting out the deadline');
  t.ok(sawAbort, "the abandoned call's cloud request was aborted");
  t.same(w.cloud.snapshot('ingress/cloud').ips.length, 1, 'one address');
});
