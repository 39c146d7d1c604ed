/**
 * The Service DecoratorController (`metacontroller/decorator-services.yaml`): a Service annotated
 * `routedip.io/issuer` gets a RoutedIP attachment named after it. POST /service/sync and
 * /service/finalize share one handler (Metacontroller says which by `finalizing`); POST
 * /service/customize relates the RoutedIP of the Service's name, to tell a foreign one apart.
 * Thin glue: the decision is `plan/service-routedip.ts`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { isValid } from '../schemas/check.js';
import { CustomizeFor, DecoratorRequest, DecoratorResponseSchema, type DecoratorResponse } from '../schemas/decorator.js';
import { ServiceSchema } from '../schemas/kubernetes.js';
import { CustomizeResponseSchema, RELATED } from '../schemas/metacontroller.js';
import { API_VERSION, RoutedIPSchema, type RoutedIPObject } from '../schemas/routed-ip.js';
import { DeliveredRoutedIPSchema } from '../schemas/delivered.js';
import { decorateService } from '../plan/service-routedip.js';
import { readStatusHint } from '../reconcile/hints.js';

/**
 * Service decorator request: the Service, its RoutedIP attachment, and the RoutedIP of its name
 * (only its uid is read, so its spec is not checked).
 */
export const ServiceSyncRequestSchema = DecoratorRequest(
  ServiceSchema,
  Type.Object({ [RELATED.routedIPs]: Type.Optional(Type.Record(Type.String(), DeliveredRoutedIPSchema)) }),
);

const asRoutedIP = (o: unknown): RoutedIPObject | undefined => (isValid(RoutedIPSchema, o) ? o : undefined);

/** Registers POST /service/sync, /service/finalize and /service/customize. */
export const serviceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  for (const hook of ['sync', 'finalize'] as const) {
    app.post(`/service/${hook}`, { schema: { body: ServiceSyncRequestSchema, response: { 200: DecoratorResponseSchema } } }, async (request): Promise<DecoratorResponse> => {
      const svc = request.body.object;
      const namespace = svc.metadata.namespace ?? 'default';
      const key = `${namespace}/${svc.metadata.name}`;
      const attachment = asRoutedIP(request.body.attachments?.[RELATED.routedIPs]?.[key]);
      const sameName = request.body.related?.[RELATED.routedIPs]?.[key];
      const foreign = sameName !== undefined && (attachment === undefined || (sameName.metadata.uid !== undefined && sameName.metadata.uid !== attachment.metadata.uid));
      const address = attachment ? readStatusHint(attachment.status).address : undefined;
      const decoration = decorateService({
        name: svc.metadata.name,
        namespace,
        annotations: svc.metadata.annotations ?? {},
        finalizing: request.body.finalizing === true,
        foreign,
        ...(attachment
          ? {
              attachment: {
                ...(attachment.spec ? { spec: attachment.spec } : {}),
                ...(attachment.metadata.annotations ? { annotations: attachment.metadata.annotations } : {}),
                ...(address !== undefined ? { address } : {}),
              },
            }
          : {}),
      });
      const conflict = decoration.annotations['routedip.io/last-conflict'];
      if (conflict) request.log.warn({ service: key }, conflict);
      return {
        annotations: decoration.annotations,
        attachments: decoration.attachments,
        ...(decoration.resyncAfterSeconds !== undefined ? { resyncAfterSeconds: decoration.resyncAfterSeconds } : {}),
        ...(request.body.finalizing === true ? { finalized: decoration.finalized === true } : {}),
      };
    });
  }
  app.post('/service/customize', { schema: { body: CustomizeFor(ServiceSchema), response: { 200: CustomizeResponseSchema } } }, async (request) => ({
    relatedResources: [{ apiVersion: API_VERSION, resource: 'routedips', namespace: request.body.parent.metadata.namespace ?? 'default', names: [request.body.parent.metadata.name] }],
  }));
};
