/**
 * The issuer controllers (CompositeControllers `routedip-issuers` and `routedip-clusterissuers`):
 * POST /issuer/sync writes a RoutedIPIssuer's status, POST /issuer/finalize holds a deleted issuer
 * until the last RoutedIP using it is gone, POST /issuer/customize relates the RoutedIPs and
 * labelled Secrets of its namespace; /clusterissuer/* does the same for a ClusterRoutedIPIssuer
 * (RoutedIPs of every namespace, Secrets of the operator's). Thin glue over
 * `plan/issuer-status.ts` and `reconcile/issuer-status.ts`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CustomizeFor } from '../schemas/decorator.js';
import { CustomizeResponseSchema, ErrorResponseSchema, RELATED, type RelatedResourceRule } from '../schemas/metacontroller.js';
import { SecretSchema } from '../schemas/kubernetes.js';
import { API_VERSION, DeliveredIssuerSchema, ISSUER_SECRET_LABEL, RoutedIPIssuerStatusSchema, type DeliveredIssuer, type IssuerKind } from '../schemas/routed-ip.js';
import { DeliveredRoutedIPSchema, type DeliveredRoutedIP } from '../schemas/delivered.js';
import { HOLD_RECHECK_SECONDS, holdMessage, ISSUER_CHECK_SECONDS, routedIPsOf, routedIPsOfClusterIssuer } from '../plan/issuer-status.js';
import { DEFAULT_POLICY, describeIssuer } from '../reconcile/policy.js';
import { isFalse, isUnknown } from '../reconcile/conditions.js';
import { checkIssuer, issuerStatus, sweepIssuer, type IssuerStatusDeps } from '../reconcile/issuer-status.js';
import { NO_ORPHANS, type SweepOutcome } from '../reconcile/orphans.js';
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
  /** `routedip_orphans{provider,kind}` and `routedip_orphans_released_total{provider,kind}`. */
  readonly metrics: Metrics;
}

/** What differs between the two issuer kinds' controllers. */
interface KindRoutes {
  readonly prefix: string;
  readonly kind: IssuerKind;
  /** The namespace its Secrets are read from. */
  readonly secretNamespace: (issuer: DeliveredIssuer) => string;
  /** `namespace/name` of the RoutedIPs using it, sorted. */
  readonly users: (routedIPs: readonly DeliveredRoutedIP[], issuer: DeliveredIssuer) => string[];
  /** Its customize answer: the RoutedIPs that may use it and the labelled Secrets it may read. */
  readonly related: (issuer: DeliveredIssuer) => RelatedResourceRule[];
  /** The orphan sweep runs (its scope is one namespace: RoutedIPIssuers only). */
  readonly sweeps: boolean;
}

const labelledSecrets = { matchExpressions: [{ key: ISSUER_SECRET_LABEL, operator: 'Exists' as const }] };

/**
 * Registers POST /issuer/{sync,finalize,customize} (RoutedIPIssuer, CompositeController
 * `routedip-issuers`) and /clusterissuer/{sync,finalize,customize} (ClusterRoutedIPIssuer,
 * `routedip-clusterissuers`): the same status and the same hold, with a cluster issuer's users
 * taken from every namespace and its Secrets from the operator's. The orphan sweep judges the
 * addresses of one namespace's RoutedIPs, so it runs for RoutedIPIssuers only.
 */
export const issuerRoutes: FastifyPluginAsyncTypebox<IssuerRoutesOptions> = async (app, { deps, redactor: base, sessions, deadlineMs, metrics }) => {
  const operatorNamespace = (deps.policy ?? DEFAULT_POLICY).operatorNamespace;
  const kinds: KindRoutes[] = [
    {
      prefix: '/issuer',
      kind: 'RoutedIPIssuer',
      secretNamespace: (i) => i.metadata.namespace ?? 'default',
      users: (r, i) => routedIPsOf(r, i.metadata.namespace ?? 'default', i.metadata.name),
      related: (i) => {
        const namespace = i.metadata.namespace ?? 'default';
        return [
          { apiVersion: API_VERSION, resource: 'routedips', namespace },
          { apiVersion: 'v1', resource: 'secrets', namespace, labelSelector: labelledSecrets },
        ];
      },
      sweeps: true,
    },
    {
      prefix: '/clusterissuer',
      kind: 'ClusterRoutedIPIssuer',
      secretNamespace: () => operatorNamespace,
      users: (r, i) => routedIPsOfClusterIssuer(r, i.metadata.name),
      // Every namespace's RoutedIPs (a v2 rule without namespace), the operator's Secrets.
      related: () => [
        { apiVersion: API_VERSION, resource: 'routedips' },
        { apiVersion: 'v1', resource: 'secrets', namespace: operatorNamespace, labelSelector: labelledSecrets },
      ],
      sweeps: false,
    },
  ];
  for (const k of kinds) {
    for (const hook of ['sync', 'finalize'] as const) {
      app.post(`${k.prefix}/${hook}`, { schema: { body: IssuerSyncRequestSchema, response: { 200: IssuerSyncResponseSchema, 429: ErrorResponseSchema } } }, async (request, reply) => {
        const issuer = request.body.parent;
        const namespace = k.secretNamespace(issuer);
        const who = describeIssuer(k.kind, issuer.metadata.namespace ?? 'default', issuer.metadata.name);
        const metricKey = issuer.metadata.uid ?? who;
        const users = k.users(Object.values(request.body.related?.[RELATED.routedIPs] ?? {}), issuer);
        const now = deps.clock();
        const previous = issuer.status as { provider?: unknown } | undefined;
        if (request.body.finalizing === true) {
          const held = users.length > 0;
          const provider = typeof previous?.provider === 'string' ? previous.provider : undefined;
          const status = issuerStatus(issuer, provider, users.length, {
            Ready: isFalse('Deleting', held ? holdMessage(who, users) : 'no RoutedIP uses it any more'),
            FirewallFound: isUnknown('Deleting', 'the issuer is being deleted'),
            OrphansFound: isUnknown('Deleting', 'the issuer is being deleted: no sweep'),
          }, now);
          if (!held) metrics.orphans.drop(metricKey);
          return { status, children: [], ...(held ? { resyncAfterSeconds: HOLD_RECHECK_SECONDS } : {}), finalized: !held };
        }
        const secrets = new Map(Object.values(request.body.related?.[RELATED.secrets] ?? {}).filter((s) => (s.metadata.namespace ?? namespace) === namespace).map((s) => [s.metadata.name, s]));
        // The same redaction step as /sync: cloud error text reaches the status only without credentials.
        const redactor = base.with(secretValues(secrets.values()));
        request.callRedactor = redactor;
        const call = beginCallSession(reply, sessions, deadlineMs);
        const callDeps = { ...deps, logger: request.log, session: call.session };
        const routedIPs = Object.values(request.body.related?.[RELATED.routedIPs] ?? {});
        const notSwept: SweepOutcome = { count: NO_ORPHANS, removed: NO_ORPHANS, condition: isUnknown('SweepNotSupported', 'the orphan sweep covers the RoutedIPs of one namespace: RoutedIPIssuers only') };
        const { check, sweep } = await withRedactor(redactor, async () => {
          const check = await checkIssuer(issuer, secrets, callDeps, k.kind);
          if (check.throttleSeconds !== undefined) return { check, sweep: undefined };
          return { check, sweep: k.sweeps ? await sweepIssuer(issuer, secrets, routedIPs, check, callDeps) : notSwept };
        }).finally(() => call.end());
        const throttle = check.throttleSeconds ?? sweep?.throttleSeconds;
        if (throttle !== undefined || !sweep) {
          const seconds = throttle ?? 1;
          return reply.code(429).header('retry-after', String(seconds)).send({ statusCode: 429, code: 'RATE_LIMITED', error: 'Too Many Requests', message: `cloud rate budget spent; retry after ${seconds}s` });
        }
        if (check.provider !== undefined && k.sweeps) {
          // A sweep that could not list leaves the issuer's last sighting as it was.
          if (sweep.seen) metrics.orphans.set(metricKey, check.provider, sweep.seen);
          for (const kind of ['address', 'rule'] as const) if (sweep.removed[kind] > 0) metrics.orphansReleased.inc({ provider: check.provider, kind }, sweep.removed[kind]);
        }
        const clean = redactor.deep(issuerStatus(issuer, check.provider, users.length, { ...check.conditions, OrphansFound: sweep.condition }, now, sweep.orphans));
        const status = { ...clean, conditions: clean.conditions.map((c) => (c.reason.includes(REDACTED) ? { ...c, reason: 'Redacted' } : c)) };
        return { status, children: [], resyncAfterSeconds: Math.min(ISSUER_CHECK_SECONDS, sweep.resyncAfterSeconds ?? ISSUER_CHECK_SECONDS) };
      });
    }
    app.post(`${k.prefix}/customize`, { schema: { body: CustomizeFor(DeliveredIssuerSchema), response: { 200: CustomizeResponseSchema } } }, async (request) => ({
      relatedResources: k.related(request.body.parent),
    }));
  }
};
