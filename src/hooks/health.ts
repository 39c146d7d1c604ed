/**
 * Probes and metrics. /healthz answers while the process runs; /readyz turns 503 once the app
 * starts closing, and while every hook slot is taken, so the Service routes hook calls to a
 * replica that can serve them (a saturated one would only answer 429).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.js';

/** Registers GET /healthz, /readyz and /metrics. */
export const healthRoutes: FastifyPluginAsync<{ metrics: Metrics; saturated: () => boolean }> = async (app, { metrics, saturated }) => {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (closing) return reply.code(503).send({ status: 'closing' });
    if (saturated()) return reply.code(503).send({ status: 'saturated' });
    return { status: 'ok' };
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
};
