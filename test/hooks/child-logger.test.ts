/**
 * BindingLogger (src/child-logger.ts): the lines it writes are a pino child's lines, and it makes
 * no pino child for the lines a hook call writes (fields and a message, or a message alone).
 */
import t from 'tap';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { BindingLogger, bindingChildLoggerFactory } from '../../src/child-logger.js';
import { IssuerUnavailableError } from '../../src/issuers/errors.js';
import { ScriptedWorld } from './world.js';

/** A root pino logger writing to an array, counting the children made from it (and theirs). */
function root(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const { time: _time, ...line } = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
      lines.push(line);
      done();
    },
  });
  const logger = pino({ level }, stream);
  let children = 0;
  // Children inherit this `child` through their prototype, so theirs are counted too.
  const target = logger as unknown as { child: (this: unknown, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => unknown };
  const original = target.child;
  target.child = function (this: unknown, bindings, options) {
    children += 1;
    return original.call(this, bindings, options);
  };
  return { logger: logger as unknown as FastifyBaseLogger, lines, children: () => children };
}

const writeAll = (log: FastifyBaseLogger) => {
  log.info({ step: 'AssignRoutedIP', n: 1 }, 'step done');
  log.warn('plain message');
  log.error({ nested: { a: [1, 2] } }, 'formatted %s and %d', 'text', 42);
  log.debug({ routedip: 'override' }, 'a field of the line wins over a binding of the same name');
  log.trace('below the level: not written');
};

t.test("writes what pino's child writes, without making a child", async (t) => {
  const viaPino = root();
  writeAll(viaPino.logger.child({ reqId: 'req-1', routedip: 'ns/a' }));
  const viaBinding = root();
  writeAll(new BindingLogger(viaBinding.logger, { reqId: 'req-1', routedip: 'ns/a' }));
  t.equal(viaBinding.lines.length, 4, 'four lines at or above debug');
  t.same(viaBinding.lines, viaPino.lines.map((l) => ({ ...l, routedip: l.routedip })), 'the same lines');
  t.equal(viaBinding.children(), 0, 'no pino child was made');
  // pino writes a duplicated key twice (binding, then field) and JSON.parse keeps the last:
  t.equal(viaBinding.lines[3]?.routedip, 'override');
});

t.test('children of a BindingLogger carry both bindings, still without a pino child', async (t) => {
  const r = root();
  const child = new BindingLogger(r.logger, { reqId: 'req-2' }).child({ routedip: 'ns/b' }).child({ issuer: 'ns/i', provider: 'aws' });
  child.info({ action: 'DescribeAddresses' }, 'EC2 call');
  t.same(r.lines, [{ level: 30, pid: process.pid, hostname: r.lines[0]?.hostname, reqId: 'req-2', routedip: 'ns/b', issuer: 'ns/i', provider: 'aws', action: 'DescribeAddresses', msg: 'EC2 call' }]);
  t.equal(r.children(), 0);
});

t.test('an Error, child options or a level change make the real child, which then writes everything', async (t) => {
  const r = root();
  const log = new BindingLogger(r.logger, { reqId: 'req-3' });
  t.equal(log.level, 'debug', 'the level is the parent’s until set');
  log.error(new Error('boom'));
  t.equal(r.children(), 1, 'an Error as first argument is logged by a pino child (err, and its message)');
  t.match(r.lines[0], { level: 50, reqId: 'req-3', msg: 'boom', err: { type: 'Error', message: 'boom' } });
  log.info('after');
  t.equal(r.children(), 1, 'made once');
  t.match(r.lines[1], { reqId: 'req-3', msg: 'after' });
  log.level = 'warn';
  log.info('filtered by the child’s own level');
  t.equal(r.lines.length, 2);
  t.equal(log.level, 'warn');
  t.equal(r.logger.level, 'debug', 'the parent keeps its level');

  const other = new BindingLogger(r.logger, { reqId: 'req-4' });
  const withOptions = other.child({ routedip: 'ns/c' }, { level: 'error' });
  withOptions.warn('below the child’s level');
  withOptions.error('at it');
  t.match(r.lines.at(-1), { reqId: 'req-4', routedip: 'ns/c', msg: 'at it' });
  t.equal(r.children(), 3, 'child options need real children (its parent’s and its own)');
});

t.test("Fastify's request loggers: a BindingLogger, or a real child when the route sets logger options", async (t) => {
  const r = root();
  t.type(bindingChildLoggerFactory(r.logger, { reqId: 'x' }, {}), BindingLogger);
  t.type(bindingChildLoggerFactory(r.logger, { reqId: 'x' }, undefined), BindingLogger);
  const real = bindingChildLoggerFactory(r.logger, { reqId: 'x' }, { level: 'warn' });
  t.notOk(real instanceof BindingLogger);
  t.equal(real.level, 'warn');
});

t.test("a line written inside a sync carries the call's reqId and RoutedIP", async (t) => {
  const w = await new ScriptedWorld().start(t);
  // The first sync records what it will do; the second does it, and its first write fails.
  await w.syncOnce();
  w.cloud.failNext('addRoutedIPFirewallPort', new IssuerUnavailableError('timeout'));
  w.logs.length = 0;
  await w.syncOnce();
  const lines = w.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  const failed = lines.find((l) => l.msg === 'step failed');
  t.match(failed, { level: 40, routedip: 'ingress/public', step: 'AddRoutedIPFirewallPort' });
  const done = lines.find((l) => l.msg === 'sync done');
  t.type(failed?.reqId, 'string');
  t.equal(failed?.reqId, done?.reqId, 'the same request id as the call line');
});
