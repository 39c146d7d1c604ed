/**
 * The issuer controller (CompositeController `routedip-issuers`): POST /issuer/sync writes a
 * RoutedIPIssuer's status, POST /issuer/finalize holds a deleted issuer until the last RoutedIP
 * using it is gone, POST /issuer/customize relates the RoutedIPs and labelled Secrets of its
 * namespace. Thin glue over `plan/issuer-status.ts` and `reconcile/issuer-status.ts`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CustomizeFor } from '../schemas/decorator.js';
import { CustomizeResponseSchema, ErrorResponseSchema, RELATED } from '../schemas/metacontroller.js';
import { SecretSchema } from '../schemas/kubernetes.js';
import { API_VERSION, DeliveredIssuerSchema, ISSUER_SECRET_LABEL, RoutedIPIssuerStatusSchema } from '../schemas/routed-ip.js';
import { DeliveredRoutedIPSchema } from '../schemas/delivered.js';
import { HOLD_RECHECK_SECONDS, holdMessage, ISSUER_CHECK_SECONDS, routedIPsOf } from '../plan/issuer-status.js';
import { isFalse, isUnknown } from '../reconcile/conditions.js';
import { checkIssuer, issuerStatus, sweepIssuer, type IssuerStatusDeps } from '../reconcile/issuer-status.js';
import type { Metrics } from '../metrics.js';
import { REDACTED, secretValues, withRedactor, type Redactor } from '../redaction.js';
import type { Sessions } from '../issuers/session.js';
import { beginCallSession } from './call-session.js';

/**
 * The issuer's spec, and the related RoutedIPs' specs, are read by the reconcile layer: an
 * invalid stored spec gets Ready=False InvalidSpec naming the field, never a 400.
 */
const IssuerSyncRequestSchema = Type.Object({
  controller: Type.Optional(Type.Unknown()),
  parent: DeliveredIssuerSchema,
  children: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  related: Type.Optional(
    Type.Object({
      [RELATED.routedIPs]: Type.Optional(Type.Record(Type.String(), DeliveredRoutedIPSchema)),
      [RELATED.secrets]: Type.Optional(Type.Record(Type.String(), SecretSchema)),
    }),
  ),
  finalizing: Type.Optional(Type.Boolean()),
});

const IssuerSyncResponseSchema = Type.Object(
  {
    status: RoutedIPIssuerStatusSchema,
    children: Type.Array(Type.Unknown()),
    resyncAfterSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    finalized: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Options of the issuer routes. */
export interface IssuerRoutesOptions {
  readonly deps: Omit<IssuerStatusDeps, 'logger' | 'session'>;
  readonly redactor: Redactor;
  /** Locks and per-account state shared by every call of the process. */
  readonly sessions: Sessions;
  /** A call's deadline, counted from its arrival (see `hookDeadlineMs`). */
  readonly deadlineMs: number;
  /** `routedip_orphans` and `routedip_orphans_released_total`. */
  readonly metrics: Metrics;
}

/** Registers POST /issuer/sync, /issuer/finalize and /issuer/customize. */
export const issuerRoutes: FastifyPluginAsyncTypebox<IssuerRoutesOptions> = async (app, { deps, redactor: base, sessions, deadlineMs, metrics }) => {
  for (const hook of ['sync', 'finalize'] as const) {
    app.post(`/issuer/${hook}`, { schema: { body: IssuerSyncRequestSchema, response: { 200: IssuerSyncResponseSchema, 429: ErrorResponseSchema } } }, async (request, reply) => {
      const issuer = request.body.parent;
      const namespace = issuer.metadata.namespace ?? 'default';
      const users = routedIPsOf(Object.values(request.body.related?.[RELATED.routedIPs] ?? {}), namespace, issuer.metadata.name);
      const now = deps.clock();
      const previous = issuer.status as { provider?: unknown } | undefined;
      if (request.body.finalizing === true) {
        const held = users.length > 0;
        const provider = typeof previous?.provider === 'string' ? previous.provider : undefined;
        const status = issuerStatus(issuer, provider, users.length, {
          Ready: isFalse('Deleting', held ? holdMessage(`RoutedIPIssuer ${namespace}/${issuer.metadata.name}`, users) : 'no RoutedIP uses it any more'),
          FirewallFound: isUnknown('Deleting', 'the issuer is being deleted'),
          OrphansFound: isUnknown('Deleting', 'the issuer is being deleted: no sweep'),
        }, now);
        if (!held) metrics.orphans.drop(issuer.metadata.uid ?? `${namespace}/${issuer.metadata.name}`);
        return { status, children: [], ...(held ? { resyncAfterSeconds: HOLD_RECHECK_SECONDS } : {}), finalized: !held };
      }
      const secrets = new Map(Object.values(request.body.related?.[RELATED.secrets] ?? {}).filter((s) => (s.metadata.namespace ?? namespace) === namespace).map((s) => [s.metadata.name, s]));
      // The same redaction step as /sync: cloud error text reaches the status only without credentials.
      const redactor = base.with(secretValues(secrets.values()));
      const call = beginCallSession(reply, sessions, deadlineMs);
      const callDeps = { ...deps, logger: request.log, session: call.session };
      const routedIPs = Object.values(request.body.related?.[RELATED.routedIPs] ?? {});
      const { check, sweep } = await withRedactor(redactor, async () => {
        const check = await checkIssuer(issuer, secrets, callDeps);
        return { check, sweep: check.throttleSeconds === undefined ? await sweepIssuer(issuer, secrets, routedIPs, check, callDeps) : undefined };
      }).finally(() => call.end());
      const throttle = check.throttleSeconds ?? sweep?.throttleSeconds;
      if (throttle !== undefined || !sweep) {
        const seconds = throttle ?? 1;
        return reply.code(429).header('retry-after', String(seconds)).send({ statusCode: 429, code: 'RATE_LIMITED', error: 'Too Many Requests', message: `cloud rate budget spent; retry after ${seconds}s` });
      }
      if (check.provider !== undefined) {
        metrics.orphans.set(issuer.metadata.uid ?? `${namespace}/${issuer.metadata.name}`, check.provider, sweep.count);
        if (sweep.released > 0) metrics.orphansReleased.inc({ provider: check.provider }, sweep.released);
      }
      const clean = redactor.deep(issuerStatus(issuer, check.provider, users.length, { ...check.conditions, OrphansFound: sweep.condition }, now, sweep.orphans));
      const status = { ...clean, conditions: clean.conditions.map((c) => (c.reason.includes(REDACTED) ? { ...c, reason: 'Redacted' } : c)) };
      return { status, children: [], resyncAfterSeconds: Math.min(ISSUER_CHECK_SECONDS, sweep.resyncAfterSeconds ?? ISSUER_CHECK_SECONDS) };
    });
  }
  app.post('/issuer/customize', { schema: { body: CustomizeFor(DeliveredIssuerSchema), response: { 200: CustomizeResponseSchema } } }, async (request) => {
    const namespace = request.body.parent.metadata.namespace ?? 'default';
    return {
      relatedResources: [
        { apiVersion: API_VERSION, resource: 'routedips', namespace },
        { apiVersion: 'v1', resource: 'secrets', namespace, labelSelector: { matchExpressions: [{ key: ISSUER_SECRET_LABEL, operator: 'Exists' as const }] } },
      ],
    };
  });
};
