/** POST /customize: the related rules of a RoutedIP, from its spec only. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CustomizeRequestSchema, CustomizeResponseSchema } from '../schemas/metacontroller.js';
import { relatedResources } from '../reconcile/related.js';

/** Registers POST /customize. */
export const customizeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/customize', { schema: { body: CustomizeRequestSchema, response: { 200: CustomizeResponseSchema } } }, async (request) => ({
    relatedResources: relatedResources(request.body.parent),
  }));
};
