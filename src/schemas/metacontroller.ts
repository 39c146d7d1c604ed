/**
 * Metacontroller v2 hook requests and responses (CompositeController sync/finalize, customize).
 *
 * Requests accept extra fields (Metacontroller and Kubernetes grow). Responses declare exactly
 * the fields Metacontroller's strict v2 decoder knows and nothing else: an unknown key there
 * fails the whole call on Metacontroller's side.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { EndpointSliceSchema, LabelSelectorSchema, MapOf, NodeSchema, PodSchema, SecretSchema, ServiceSchema } from './kubernetes.js';
import { DeliveredRoutedIPSchema } from './delivered.js';
import { DeliveredIssuerSchema, RoutedIPStatusSchema } from './routed-ip.js';

/** Keys of the `related` groups, as Metacontroller builds them (`<Kind>.<apiVersion>`). */
export const RELATED = {
  nodes: 'Node.v1',
  services: 'Service.v1',
  endpointSlices: 'EndpointSlice.discovery.k8s.io/v1',
  secrets: 'Secret.v1',
  issuers: 'RoutedIPIssuer.routedip.io/v1alpha1',
  clusterIssuers: 'ClusterRoutedIPIssuer.routedip.io/v1alpha1',
  routedIPs: 'RoutedIP.routedip.io/v1alpha1',
  pods: 'Pod.v1',
} as const;

/** One `related` group: objects by `namespace/name` (an ajv-cheap map, see `MapOf`). */
const group = <T extends TSchema>(item: T) => Type.Optional(MapOf(item));

/** The `related` map with the groups this service asks for; other groups are accepted and ignored. */
export const RelatedSchema = Type.Object({
  [RELATED.nodes]: group(NodeSchema),
  [RELATED.services]: group(ServiceSchema),
  [RELATED.endpointSlices]: group(EndpointSliceSchema),
  [RELATED.secrets]: group(SecretSchema),
  [RELATED.issuers]: group(DeliveredIssuerSchema),
  [RELATED.clusterIssuers]: group(DeliveredIssuerSchema),
  [RELATED.routedIPs]: group(DeliveredRoutedIPSchema),
  [RELATED.pods]: group(PodSchema),
});
export type Related = Static<typeof RelatedSchema>;

/**
 * CompositeController sync and finalize request (`finalizing` tells them apart). The parent's
 * spec is checked by the reconcile layer, not here: a stored spec that violates the schema gets
 * a condition (InvalidSpec), and only a request that is no hook request at all gets a 400.
 */
export const SyncRequestSchema = Type.Object({
  controller: Type.Optional(Type.Unknown()),
  parent: DeliveredRoutedIPSchema,
  children: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  related: Type.Optional(RelatedSchema),
  finalizing: Type.Optional(Type.Boolean()),
});
export type SyncRequest = Static<typeof SyncRequestSchema>;

/** CompositeController sync and finalize response: exactly the fields Metacontroller knows. */
export const SyncResponseSchema = Type.Object(
  {
    status: RoutedIPStatusSchema,
    children: Type.Array(Type.Unknown()),
    resyncAfterSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    finalized: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SyncResponse = Static<typeof SyncResponseSchema>;

/** Customize request: the controller and the parent only. */
export const CustomizeRequestSchema = Type.Object({
  controller: Type.Optional(Type.Unknown()),
  parent: DeliveredRoutedIPSchema,
});
export type CustomizeRequest = Static<typeof CustomizeRequestSchema>;

/** One `RelatedResourceRule` of Metacontroller's API. */
export const RelatedResourceRuleSchema = Type.Object(
  {
    apiVersion: Type.String(),
    resource: Type.String(),
    labelSelector: Type.Optional(LabelSelectorSchema),
    namespace: Type.Optional(Type.String()),
    names: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type RelatedResourceRule = Static<typeof RelatedResourceRuleSchema>;

/** Customize response. */
export const CustomizeResponseSchema = Type.Object(
  { relatedResources: Type.Array(RelatedResourceRuleSchema) },
  { additionalProperties: false },
);
export type CustomizeResponse = Static<typeof CustomizeResponseSchema>;

/** Body of every 4xx/5xx answer: a machine code and a message naming the problem. */
export const ErrorResponseSchema = Type.Object(
  { statusCode: Type.Integer(), code: Type.String(), error: Type.String(), message: Type.String() },
  { additionalProperties: false },
);
