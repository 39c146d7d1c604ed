/**
 * POST /sync and POST /finalize: thin HTTP glue around `reconcile`. Both routes share one handler
 * because Metacontroller tells them apart by `request.finalizing`; `finalized` is only ever sent
 * on a finalizing call.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponseSchema, SyncRequestSchema, SyncResponseSchema, type SyncResponse } from '../schemas/metacontroller.js';
import { reconcile, type ReconcileDeps } from '../reconcile/index.js';
import type { Metrics } from '../metrics.js';

/** Options of the sync/finalize routes. */
export interface SyncRoutesOptions {
  readonly deps: Omit<ReconcileDeps, 'logger' | 'onWrite'>;
  readonly metrics: Metrics;
}

/** Registers POST /sync and POST /finalize. */
export const syncRoutes: FastifyPluginAsyncTypebox<SyncRoutesOptions> = async (app, { deps, metrics }) => {
  for (const hook of ['sync', 'finalize'] as const) {
    app.post(
      `/${hook}`,
      { schema: { body: SyncRequestSchema, response: { 200: SyncResponseSchema, 429: ErrorResponseSchema } } },
      async (request, reply) => {
        const parent = request.body.parent.metadata;
        const logger = request.log.child({ routedip: `${parent.namespace ?? 'default'}/${parent.name}` });
        const finalizing = request.body.finalizing === true;
        const outcome = await reconcile(request.body, {
          ...deps,
          logger,
          onWrite: (step, result) => metrics.stepWrites.inc({ step, outcome: result }),
        });
        if (outcome.throttleSeconds !== undefined) {
          metrics.throttled.inc({ hook });
          return reply
            .code(429)
            .header('retry-after', String(outcome.throttleSeconds))
            .send({ statusCode: 429, code: 'RATE_LIMITED', error: 'Too Many Requests', message: `cloud rate budget spent; retry after ${outcome.throttleSeconds}s` });
        }
        const ready = outcome.status.conditions.find((c) => c.type === 'Ready');
        logger.info({ ready: ready?.status, reason: ready?.reason, steps: outcome.status.steps.filter((s) => s.outcome !== 'skipped').map((s) => `${s.name}=${s.outcome}`) }, `${hook} done`);
        const body: SyncResponse = {
          status: outcome.status,
          children: [],
          ...(outcome.resyncAfterSeconds !== undefined ? { resyncAfterSeconds: outcome.resyncAfterSeconds } : {}),
          ...(finalizing ? { finalized: outcome.finalized === true } : {}),
        };
        return body;
      },
    );
  }
};
