/**
 * The session of one hook call that reaches the cloud (/sync, /finalize, /issuer/sync): its
 * AbortSignal fires at the call's deadline (counted from the request's arrival) or as soon as
 * Metacontroller gives up on it (its hook timeout closes the connection), so abandoned work stops
 * and frees its locks. `end()` must be called when the call's cloud work is over.
 */
import type { FastifyReply } from 'fastify';
import type { HookSession, Sessions } from '../issuers/session.js';

/** A call's session and the function that ends it (clears its timer). */
export interface CallSession {
  readonly session: HookSession;
  end(): void;
}

/** Opens the session of the call answered by `reply`, which must stop `deadlineMs` after it arrived. */
export function beginCallSession(reply: FastifyReply, sessions: Sessions, deadlineMs: number): CallSession {
  const controller = new AbortController();
  const deadline = Date.now() - reply.elapsedTime + deadlineMs;
  const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - Date.now()));
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return { session: sessions.begin({ signal: controller.signal, deadline, budgetMs: deadlineMs }), end: () => clearTimeout(timer) };
}
