/** The session module: deadline, in-process locks, per-account state. */
import t from 'tap';
import { IssuerDeadlineError } from '../../src/issuers/errors.js';
import { Sessions, unboundedSession } from '../../src/issuers/session.js';

const session = (sessions: Sessions, deadline = Number.POSITIVE_INFINITY) => {
  const controller = new AbortController();
  return { controller, session: sessions.begin({ signal: controller.signal, deadline, budgetMs: 8000 }) };
};

t.test('serialize: one holder per key, FIFO, sorted multi-key acquisition, nothing held after', async (t) => {
  const sessions = new Sessions();
  const a = session(sessions).session;
  const b = session(sessions).session;
  const order: string[] = [];
  let openA!: () => void;
  const gateA = new Promise<void>((r) => (openA = r));
  let started!: () => void;
  const aStarted = new Promise<void>((r) => (started = r));
  const first = a.serialize(['k2', 'k1'], 'a', async () => {
    order.push('a start');
    started();
    await gateA;
    order.push('a end');
  });
  await aStarted;
  const second = b.serialize(['k1'], 'b', async () => void order.push('b'));
  const other = b.serialize(['k3'], 'c', async () => void order.push('c'));
  await other;
  t.same(order, ['a start', 'c'], 'another key is not blocked; k1 waits');
  openA();
  await Promise.all([first, second]);
  t.same(order, ['a start', 'c', 'a end', 'b']);
  await new Promise((r) => setImmediate(r));
  t.same(sessions.heldKeys, [], 'no key stays held');
});

t.test('a wait stops at the deadline with IssuerDeadlineError and passes the turn on', async (t) => {
  const sessions = new Sessions();
  const holder = session(sessions).session;
  const waiter = session(sessions);
  const third = session(sessions).session;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const held = holder.serialize(['k'], 'hold', () => gate);
  const waiting = waiter.session.serialize(['k'], 'the lock', async () => 'never');
  const after = third.serialize(['k'], 'after', async () => 'third ran');
  waiter.controller.abort();
  const err = await waiting.catch((e: unknown) => e);
  t.ok(err instanceof IssuerDeadlineError, 'deadline error');
  t.equal((err as IssuerDeadlineError).reason, 'DeadlineExceeded');
  t.ok((err as IssuerDeadlineError).retryable);
  t.match((err as Error).message, /8 s deadline passed before the lock/);
  open();
  await held;
  t.equal(await after, 'third ran', 'the abandoned wait did not strand the next waiter');
  await new Promise((r) => setImmediate(r));
  t.same(sessions.heldKeys, []);
});

t.test('a failing holder releases its keys', async (t) => {
  const sessions = new Sessions();
  const s = session(sessions).session;
  await t.rejects(s.serialize(['k'], 'x', async () => Promise.reject(new Error('boom'))), /boom/);
  t.equal(await s.serialize(['k'], 'y', async () => 'free'), 'free');
  await new Promise((r) => setImmediate(r));
  t.same(sessions.heldKeys, []);
});

t.test('beforeWrite throws once the deadline passed or the signal aborted', async (t) => {
  const sessions = new Sessions();
  const late = session(sessions, Date.now() - 1).session;
  t.throws(() => late.beforeWrite('AssignRoutedIP'), IssuerDeadlineError);
  const live = session(sessions);
  t.doesNotThrow(() => live.session.beforeWrite('AssignRoutedIP'));
  live.controller.abort();
  t.throws(() => live.session.beforeWrite('AssignRoutedIP'), /deadline passed before AssignRoutedIP/);
  t.doesNotThrow(() => unboundedSession().beforeWrite('x'), 'outside a hook call nothing expires');
});

t.test('openAccount binds the account and keeps its state across calls', async (t) => {
  const sessions = new Sessions();
  const one = session(sessions).session;
  const two = session(sessions).session;
  let made = 0;
  const s1 = one.openAccount('aws:abc', () => ({ n: ++made }));
  const s2 = two.openAccount('aws:abc', () => ({ n: ++made }));
  t.equal(s1, s2, 'same state object for the same account');
  t.equal(made, 1);
  t.equal(one.accountKey('node/i-1'), 'aws:abc/node/i-1');
  t.not(two.openAccount('aws:def', () => ({ n: ++made })), s1, 'another account, another state');
});
