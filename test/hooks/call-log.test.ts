/**
 * One log line per call (src/hooks/call-log.ts): written when the response closes, carrying
 * method, url, status, duration and the hook's outcome, in place of Fastify's two per-request
 * lines; through the call's own redactor; also for calls the client abandoned.
 */
import t from 'tap';
import { request } from 'undici';
import type { IssuerRegistry } from '../../src/issuers/registry.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { secret } from '../fixtures/k8s.js';
import { buildTestApp } from '../helpers/app.js';
import { ScriptedWorld } from './world.js';

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}
const lines = (logs: readonly string[]): Line[] => logs.map((l) => JSON.parse(l) as Line);
const callLines = (logs: readonly string[]) => lines(logs).filter((l) => l.msg.endsWith(' done'));

t.test('a sync writes one line with method, url, status, duration, RoutedIP and outcome; no Fastify request lines', async (t) => {
  const w = await new ScriptedWorld().start(t);
  await w.sync();
  w.logs.length = 0;
  const answer = await w.syncOnce();
  t.equal(answer.statusCode, 200);
  const all = lines(w.logs);
  t.same(all.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed'), [], "Fastify's per-request lines are gone");
  const done = callLines(w.logs);
  t.equal(done.length, 1, 'one line for the call');
  t.match(done[0], { level: 30, msg: 'sync done', method: 'POST', url: '/sync', statusCode: 200, routedip: 'ingress/public', ready: 'True', reason: 'Ready' });
  t.type(done[0]?.durationMs, 'number');
  t.ok((done[0]?.durationMs as number) >= 0);
  t.ok(Array.isArray(done[0]?.steps), 'the steps that did something are listed');
  t.notOk('aborted' in done[0]!, 'a finished call is not marked aborted');
  t.type(done[0]?.reqId, 'string', 'the request id binds it to any other line of the call');
});

t.test('a refused call (wrong bearer token) still gets its line, at its status', async (t) => {
  const w = await new ScriptedWorld().start(t, 'the-hook-token');
  const answer = await w.syncOnce({ authorization: 'Bearer wrong' });
  t.equal(answer.statusCode, 401);
  t.match(callLines(w.logs), [{ msg: 'sync done', statusCode: 401, method: 'POST', url: '/sync' }]);
});

t.test('probes log at debug, hooks at info', async (t) => {
  const w = await new ScriptedWorld().start(t);
  await w.app.inject({ method: 'GET', url: '/healthz' });
  await w.app.inject({ method: 'POST', url: '/customize', payload: { controller: {}, parent: w.parent } });
  t.match(callLines(w.logs), [
    { level: 20, msg: 'request done', url: '/healthz', statusCode: 200 },
    { level: 30, msg: 'customize done', url: '/customize', statusCode: 200 },
  ]);
});

t.test("the line passes through the call's redactor: a delivered Secret value in the url is removed", async (t) => {
  const w = await new ScriptedWorld().start(t);
  // No credential shape: only the call's redactor, which knows the delivered values, can catch it.
  const value = 'plain-words-secret-value-42';
  const answer = await w.app.inject({ method: 'POST', url: `/sync?leak=${value}`, payload: w.request({ secrets: [secret('unrelated', { value })] }) });
  t.equal(answer.statusCode, 200);
  const done = callLines(w.logs);
  t.equal(done.length, 1);
  t.notOk(w.logs.join('\n').includes(value), 'the value is in no log line');
  t.match(done[0], { url: '/sync?leak=[REDACTED]' });
});

t.test('a call the client abandoned is logged once it closes, marked aborted, with its RoutedIP', async (t) => {
  const w = new ScriptedWorld();
  let entered!: () => void;
  const reached = new Promise<void>((resolve) => (entered = resolve));
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const base = createIssuerRegistry({ memoryCloud: w.cloud });
  const registry: IssuerRegistry = {
    memory: async (context) => {
      const issuer = await base.memory!(context);
      return { ...issuer, findRoutedIP: async (q) => (entered(), await gate, issuer.findRoutedIP(q)) };
    },
  };
  const built = await buildTestApp(t, { registry, clock: w.clock.now });
  w.app = built.app;
  const url = await built.app.listen({ port: 0, host: '127.0.0.1' });
  const abort = new AbortController();
  const call = request(`${url}/sync`, { method: 'POST', body: JSON.stringify(w.request()), headers: { 'content-type': 'application/json' }, signal: abort.signal }).catch((err: unknown) => err);
  await reached;
  abort.abort();
  await call;
  for (let i = 0; i < 200 && callLines(built.logs).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  open();
  t.match(callLines(built.logs), [{ msg: 'sync done', aborted: true, routedip: 'ingress/public', method: 'POST', url: '/sync' }]);
});
