/**
 * The few Kubernetes fields the service reads, as TypeBox schemas.
 *
 * Metacontroller sends whole objects; every schema here allows (and keeps) extra fields, and
 * declares only what the plan reads, so a newer API server never breaks decoding.
 */
import { Type, type ObjectOptions, type Static, type TSchema } from '@sinclair/typebox';

/**
 * A map with string keys and `value` values, as JSON Schema's `additionalProperties`. Accepts
 * what `Type.Record(Type.String(), value)` accepts, but TypeBox writes that as `patternProperties:
 * {"^(.*)$": …}`, and ajv then tests a unicode RegExp on every key: at 5,000 Nodes of ~20 labels
 * each (and 5,000 keys in the Node group), that was a third of a request's validation time.
 * Still an `Object` to TypeBox's `Value` (and to crds.ts, which writes both forms the same way).
 */
export const MapOf = <T extends TSchema>(value: T, options: ObjectOptions = {}) =>
  Type.Unsafe<Record<string, Static<T>>>(Type.Object({}, { ...options, additionalProperties: value }));

const StringMap = MapOf(Type.String());

/** `metadata` of any object: name is required, everything else optional. */
export const ObjectMetaSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Integer()),
  resourceVersion: Type.Optional(Type.String()),
  labels: Type.Optional(StringMap),
  annotations: Type.Optional(StringMap),
  deletionTimestamp: Type.Optional(Type.String()),
});
export type ObjectMeta = Static<typeof ObjectMetaSchema>;

/** A Kubernetes object with typed spec/status and any other top-level fields kept. */
export const KubeObject = <S extends TSchema, T extends TSchema>(spec: S, status: T) =>
  Type.Object({
    apiVersion: Type.Optional(Type.String()),
    kind: Type.Optional(Type.String()),
    metadata: ObjectMetaSchema,
    spec: Type.Optional(spec),
    status: Type.Optional(status),
  });

/** `metav1.LabelSelectorRequirement`. */
export const LabelSelectorRequirementSchema = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 317 }),
    operator: Type.Union([Type.Literal('In'), Type.Literal('NotIn'), Type.Literal('Exists'), Type.Literal('DoesNotExist')]),
    values: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { maxItems: 256 })),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
        message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
      },
    ],
  },
);

/** `metav1.LabelSelector`, as used by RoutedIP `spec.nodeSelector` and customize rules. */
export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: 64 })),
    matchExpressions: Type.Optional(Type.Array(LabelSelectorRequirementSchema, { maxItems: 64 })),
  },
  { additionalProperties: false },
);
export type LabelSelector = Static<typeof LabelSelectorSchema>;

const NodeConditionSchema = Type.Object({ type: Type.String(), status: Type.String(), lastTransitionTime: Type.Optional(Type.String()) });
const TaintSchema = Type.Object({
  key: Type.String(),
  value: Type.Optional(Type.String()),
  effect: Type.String(),
  /** Set by the API server for NoExecute taints: when the taint was added. */
  timeAdded: Type.Optional(Type.String()),
});

/** The Node fields read by eligibility: Ready (and since when), unschedulable, NoExecute taints (and since when), providerID, labels. */
export const NodeSchema = KubeObject(
  Type.Object({
    providerID: Type.Optional(Type.String()),
    unschedulable: Type.Optional(Type.Boolean()),
    taints: Type.Optional(Type.Array(TaintSchema)),
  }),
  Type.Object({ conditions: Type.Optional(Type.Array(NodeConditionSchema)) }),
);
export type Node = Static<typeof NodeSchema>;

const ServicePortSchema = Type.Object({
  name: Type.Optional(Type.String()),
  port: Type.Integer(),
  protocol: Type.Optional(Type.String()),
});

/** The Service fields read: its type (only ClusterIP services are routed), its ports and selector. */
export const ServiceSchema = KubeObject(
  Type.Object({
    type: Type.Optional(Type.String()),
    ports: Type.Optional(Type.Array(ServicePortSchema)),
    selector: Type.Optional(Type.Union([StringMap, Type.Null()])),
  }),
  Type.Unknown(),
);
export type Service = Static<typeof ServiceSchema>;

const EndpointConditionsSchema = Type.Object({
  ready: Type.Optional(Type.Boolean()),
  serving: Type.Optional(Type.Boolean()),
  terminating: Type.Optional(Type.Boolean()),
});
const EndpointSchema = Type.Object({
  addresses: Type.Optional(Type.Array(Type.String())),
  conditions: Type.Optional(EndpointConditionsSchema),
  nodeName: Type.Optional(Type.String()),
  /** The Pod behind the endpoint (`kind: Pod`), when the endpoints controller names it. */
  targetRef: Type.Optional(Type.Object({ kind: Type.Optional(Type.String()), name: Type.Optional(Type.String()), namespace: Type.Optional(Type.String()) })),
});
const EndpointPortSchema = Type.Object({
  name: Type.Optional(Type.String()),
  port: Type.Optional(Type.Integer()),
  protocol: Type.Optional(Type.String()),
});

/** `discovery.k8s.io/v1` EndpointSlice: endpoints (with nodeName and conditions) and ports. */
export const EndpointSliceSchema = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: ObjectMetaSchema,
  addressType: Type.Optional(Type.String()),
  endpoints: Type.Optional(Type.Union([Type.Array(EndpointSchema), Type.Null()])),
  ports: Type.Optional(Type.Union([Type.Array(EndpointPortSchema), Type.Null()])),
});
export type EndpointSlice = Static<typeof EndpointSliceSchema>;

const ContainerPortSchema = Type.Object({
  name: Type.Optional(Type.String()),
  containerPort: Type.Integer(),
  hostPort: Type.Optional(Type.Integer()),
  protocol: Type.Optional(Type.String()),
});

/**
 * The Pod fields read to find node-facing ports: `hostNetwork`, where it runs, and the
 * containers' ports (`hostPort` is what the node accepts for a `containerPort`).
 */
export const PodSchema = KubeObject(
  Type.Object({
    nodeName: Type.Optional(Type.String()),
    hostNetwork: Type.Optional(Type.Boolean()),
    containers: Type.Optional(Type.Array(Type.Object({ name: Type.Optional(Type.String()), ports: Type.Optional(Type.Array(ContainerPortSchema)) }))),
  }),
  Type.Unknown(),
);
export type Pod = Static<typeof PodSchema>;

/** A Secret: only `data` (base64) and `stringData` are read, never logged. */
export const SecretSchema = Type.Object({
  apiVersion: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  metadata: ObjectMetaSchema,
  data: Type.Optional(StringMap),
  stringData: Type.Optional(StringMap),
});
export type Secret = Static<typeof SecretSchema>;
