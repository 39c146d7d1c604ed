/**
 * The Node DecoratorController (`metacontroller/decorator-nodes.yaml`): POST /node/sync marks the
 * nodes that hold routed IPs, POST /node/customize asks for every RoutedIP with each Node.
 * Thin glue: the marks come from `plan/holder.ts`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CustomizeFor, DecoratorRequest, DecoratorResponseSchema, type DecoratorResponse } from '../schemas/decorator.js';
import { NodeSchema } from '../schemas/kubernetes.js';
import { CustomizeResponseSchema, RELATED } from '../schemas/metacontroller.js';
import { API_VERSION } from '../schemas/routed-ip.js';
import { DeliveredRoutedIPSchema } from '../schemas/delivered.js';
import { holderMarks, type HeldRoutedIP } from '../plan/holder.js';
import { readStatusHint } from '../reconcile/hints.js';

/**
 * Node decorator request: the Node and every RoutedIP of the cluster. Only the RoutedIPs'
 * status hints are read, so one with an invalid stored spec must not fail every Node's sync.
 */
export const NodeSyncRequestSchema = DecoratorRequest(
  NodeSchema,
  Type.Object({ [RELATED.routedIPs]: Type.Optional(Type.Record(Type.String(), DeliveredRoutedIPSchema)) }),
);

/** Registers POST /node/sync and POST /node/customize. */
export const nodeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/node/sync', { schema: { body: NodeSyncRequestSchema, response: { 200: DecoratorResponseSchema } } }, async (request): Promise<DecoratorResponse> => {
    const routedIPs: HeldRoutedIP[] = Object.values(request.body.related?.[RELATED.routedIPs] ?? {}).map((r) => {
      const hint = readStatusHint(r.status);
      return {
        namespace: r.metadata.namespace ?? 'default',
        name: r.metadata.name,
        ...(hint.node !== undefined ? { node: hint.node } : {}),
        ...(hint.address !== undefined ? { address: hint.address } : {}),
      };
    });
    return { ...holderMarks(request.body.object.metadata.name, routedIPs), attachments: [] };
  });
  // Every RoutedIP in every namespace: which ones a node holds is only known from their status.
  app.post('/node/customize', { schema: { body: CustomizeFor(NodeSchema), response: { 200: CustomizeResponseSchema } } }, async () => ({
    relatedResources: [{ apiVersion: API_VERSION, resource: 'routedips' }],
  }));
};
