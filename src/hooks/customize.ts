/** POST /customize: the related rules of a RoutedIP, from its spec only. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CustomizeRequestSchema, CustomizeResponseSchema } from '../schemas/metacontroller.js';
import { relatedResources } from '../reconcile/related.js';

/** Options of the customize route. */
export interface CustomizeRoutesOptions {
  /** Where ClusterRoutedIPIssuers' Secrets are read (OPERATOR_NAMESPACE). */
  readonly operatorNamespace: string;
}

/** Registers POST /customize. */
export const customizeRoutes: FastifyPluginAsyncTypebox<CustomizeRoutesOptions> = async (app, { operatorNamespace }) => {
  app.post('/customize', { schema: { body: CustomizeRequestSchema, response: { 200: CustomizeResponseSchema } } }, async (request) => ({
    relatedResources: relatedResources(request.body.parent, operatorNamespace),
  }));
};
