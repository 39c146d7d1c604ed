/**
 * POST /sync and POST /finalize: thin HTTP glue around `reconcile`. Both routes share one handler
 * because Metacontroller tells them apart by `request.finalizing`; `finalized` is only ever sent
 * on a finalizing call. Each call gets its session: a deadline below Metacontroller's hook
 * timeout, after which nothing new is started and the status so far is answered.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponseSchema, RELATED, SyncRequestSchema, SyncResponseSchema, type SyncResponse } from '../schemas/metacontroller.js';
import { reconcile, type ReconcileDeps } from '../reconcile/index.js';
import type { Metrics } from '../metrics.js';
import { REDACTED, secretValues, withRedactor, type Redactor } from '../redaction.js';
import type { RoutedIPStatus } from '../schemas/routed-ip.js';
import type { Sessions } from '../issuers/session.js';
import { beginCallSession } from './call-session.js';
import { BindingLogger } from '../child-logger.js';

/** Options of the sync/finalize routes. */
export interface SyncRoutesOptions {
  readonly deps: Omit<ReconcileDeps, 'logger' | 'onWrite' | 'session'>;
  readonly metrics: Metrics;
  /** The process-wide redactor; each call extends it with the values of the Secrets it delivers. */
  readonly redactor: Redactor;
  /** Locks and per-account state shared by every call of the process. */
  readonly sessions: Sessions;
  /** A call's deadline, counted from its arrival (see `hookDeadlineMs`). */
  readonly deadlineMs: number;
}

/**
 * The status through the redaction step. A reason is a CamelCase word: one that had credential
 * material in it (a cloud echoing it as an error code) becomes `Redacted` rather than carrying
 * the marker's brackets.
 */
function redactedStatus(redactor: Redactor, status: RoutedIPStatus): RoutedIPStatus {
  const clean = redactor.deep(status);
  return { ...clean, conditions: clean.conditions.map((c) => (c.reason.includes(REDACTED) ? { ...c, reason: 'Redacted' } : c)) };
}

/** Registers POST /sync and POST /finalize. */
export const syncRoutes: FastifyPluginAsyncTypebox<SyncRoutesOptions> = async (app, { deps, metrics, redactor: base, sessions, deadlineMs }) => {
  for (const hook of ['sync', 'finalize'] as const) {
    app.post(
      `/${hook}`,
      { schema: { body: SyncRequestSchema, response: { 200: SyncResponseSchema, 429: ErrorResponseSchema } } },
      async (request, reply) => {
        // One redaction step for this call: status, and every log line written while it runs,
        // lose the values of the credentials delivered with it (and shapes of any others).
        const redactor = base.with(secretValues(Object.values(request.body.related?.[RELATED.secrets] ?? {})));
        request.callRedactor = redactor;
        return withRedactor(redactor, async () => {
          const parent = request.body.parent.metadata;
          const routedip = `${parent.namespace ?? 'default'}/${parent.name}`;
          request.callOutcome = { routedip };
          const logger = new BindingLogger(request.log, { routedip });
          const finalizing = request.body.finalizing === true;
          const call = beginCallSession(reply, sessions, deadlineMs);
          let outcome;
          try {
            outcome = await reconcile(request.body, {
              ...deps,
              logger,
              session: call.session,
              onWrite: (step, result) => metrics.stepWrites.inc({ step, outcome: result }),
            });
          } finally {
            call.end();
          }
          if (outcome.throttleSeconds !== undefined) {
            metrics.throttled.inc({ hook });
            return reply
              .code(429)
              .header('retry-after', String(outcome.throttleSeconds))
              .send({ statusCode: 429, code: 'RATE_LIMITED', error: 'Too Many Requests', message: `cloud rate budget spent; retry after ${outcome.throttleSeconds}s` });
          }
          const ready = outcome.status.conditions.find((c) => c.type === 'Ready');
          // The call's one log line (src/hooks/call-log.ts) carries the outcome.
          request.callOutcome = { routedip, ready: ready?.status, reason: ready?.reason, steps: outcome.status.steps.filter((s) => s.outcome !== 'skipped').map((s) => `${s.name}=${s.outcome}`) };
          const body: SyncResponse = {
            status: redactedStatus(redactor, outcome.status),
            children: [],
            ...(outcome.resyncAfterSeconds !== undefined ? { resyncAfterSeconds: outcome.resyncAfterSeconds } : {}),
            ...(finalizing ? { finalized: outcome.finalized === true } : {}),
          };
          return body;
        });
      },
    );
  }
};
