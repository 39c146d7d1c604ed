/**
 * The Secret DecoratorController (`routedip-secrets`): a credentials Secret labelled
 * `routedip.io/issuer` is held by a finalizer until the last RoutedIP whose issuer names it is
 * gone, so a namespace deletion cannot take the credentials before the RoutedIPs' finalize has
 * cleaned the cloud. A Secret of the operator's namespace is also held for the RoutedIPs (of any
 * namespace) whose ClusterRoutedIPIssuer names it. /secret/sync changes nothing;
 * /secret/finalize lets the Secret go when no RoutedIP needs it, or when the label was removed
 * (the user's way to release it).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CustomizeFor, DecoratorRequest, DecoratorResponseSchema, type DecoratorResponse } from '../schemas/decorator.js';
import { SecretSchema } from '../schemas/kubernetes.js';
import { CustomizeResponseSchema, RELATED } from '../schemas/metacontroller.js';
import { API_VERSION, DeliveredIssuerSchema, ISSUER_SECRET_LABEL } from '../schemas/routed-ip.js';
import { DeliveredRoutedIPSchema } from '../schemas/delivered.js';
import { HOLD_RECHECK_SECONDS, routedIPsNeedingSecret } from '../plan/issuer-status.js';

const SecretSyncRequestSchema = DecoratorRequest(
  SecretSchema,
  Type.Object({
    // Read leniently: one issuer or RoutedIP with an invalid stored spec must not fail the hold.
    [RELATED.issuers]: Type.Optional(Type.Record(Type.String(), DeliveredIssuerSchema)),
    [RELATED.clusterIssuers]: Type.Optional(Type.Record(Type.String(), DeliveredIssuerSchema)),
    [RELATED.routedIPs]: Type.Optional(Type.Record(Type.String(), DeliveredRoutedIPSchema)),
  }),
);

/** Options of the Secret routes. */
export interface SecretRoutesOptions {
  /** Where ClusterRoutedIPIssuers' Secrets are read (OPERATOR_NAMESPACE). */
  readonly operatorNamespace: string;
}

/** Registers POST /secret/sync, /secret/finalize and /secret/customize. */
export const secretRoutes: FastifyPluginAsyncTypebox<SecretRoutesOptions> = async (app, { operatorNamespace }) => {
  app.post('/secret/sync', { schema: { body: SecretSyncRequestSchema, response: { 200: DecoratorResponseSchema } } }, async (): Promise<DecoratorResponse> => ({ attachments: [] }));
  app.post('/secret/finalize', { schema: { body: SecretSyncRequestSchema, response: { 200: DecoratorResponseSchema } } }, async (request): Promise<DecoratorResponse> => {
    const secret = request.body.object;
    const namespace = secret.metadata.namespace ?? 'default';
    // Label removed while the Secret stays: the user released it on purpose.
    if (!secret.metadata.deletionTimestamp && secret.metadata.labels?.[ISSUER_SECRET_LABEL] === undefined) return { attachments: [], finalized: true };
    const related = request.body.related;
    const issuers = Object.values(related?.[RELATED.issuers] ?? {}).map((i) => ({ namespace: i.metadata.namespace ?? namespace, name: i.metadata.name, ...(i.spec !== undefined ? { spec: i.spec } : {}) }));
    const clusterIssuers = Object.values(related?.[RELATED.clusterIssuers] ?? {}).map((i) => ({ name: i.metadata.name, ...(i.spec !== undefined ? { spec: i.spec } : {}) }));
    const users = routedIPsNeedingSecret(namespace, secret.metadata.name, issuers, Object.values(related?.[RELATED.routedIPs] ?? {}), { operatorNamespace, issuers: clusterIssuers });
    if (users.length > 0) request.log.info({ secret: `${namespace}/${secret.metadata.name}`, users: users.length }, 'credentials Secret kept for the RoutedIPs still using it');
    return { attachments: [], ...(users.length > 0 ? { resyncAfterSeconds: HOLD_RECHECK_SECONDS } : {}), finalized: users.length === 0 };
  });
  app.post('/secret/customize', { schema: { body: CustomizeFor(SecretSchema), response: { 200: CustomizeResponseSchema } } }, async (request) => {
    const namespace = request.body.parent.metadata.namespace ?? 'default';
    // A Secret of the operator's namespace may be a ClusterRoutedIPIssuer's: every such issuer,
    // and the RoutedIPs of every namespace (a v2 rule without namespace), are related too.
    const cluster = namespace === operatorNamespace;
    return {
      relatedResources: [
        { apiVersion: API_VERSION, resource: 'routedipissuers', namespace },
        ...(cluster ? [{ apiVersion: API_VERSION, resource: 'clusterroutedipissuers' }, { apiVersion: API_VERSION, resource: 'routedips' }] : [{ apiVersion: API_VERSION, resource: 'routedips', namespace }]),
      ],
    };
  });
};
