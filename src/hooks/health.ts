/**
 * Probes and metrics. /healthz answers while the process runs; /readyz turns 503 once the app
 * starts closing so the Service stops routing hook calls to a terminating pod.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.js';

/** Registers GET /healthz, /readyz and /metrics. */
export const healthRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => (closing ? reply.code(503).send({ status: 'closing' }) : { status: 'ok' }));
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
};
