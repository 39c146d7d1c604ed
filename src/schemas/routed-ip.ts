/**
 * RoutedIP and RoutedIPIssuer (group `routedip.io`, version `v1alpha1`) as TypeBox schemas.
 *
 * These schemas check types only. Semantic rules (exactly one provider block, a known reclaim
 * policy, a Secret that exists) are checked by `reconcile/validate.ts` and reported as status
 * conditions, because an invalid spec must produce a clear condition, not an HTTP error.
 * The CRDs in `manifests/crds/` carry the same shapes; `test/manifests/crds.test.ts` keeps them equal.
 */
import { Type, type Static } from '@sinclair/typebox';
import { KubeObject, LabelSelectorSchema } from './kubernetes.js';

/** API group and version of both kinds. */
export const API_GROUP = 'routedip.io';
export const API_VERSION = `${API_GROUP}/v1alpha1`;

/** Label a credentials Secret must carry to be delivered to the service (any value). */
export const ISSUER_SECRET_LABEL = 'routedip.io/issuer';

const SecretKeyRefSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  key: Type.Optional(Type.String({ minLength: 1 })),
});

/** `spec.digitalocean`: Reserved IPv4 + Cloud Firewalls. */
export const DigitalOceanIssuerSpecSchema = Type.Object({
  region: Type.String({ minLength: 1 }),
  tokenSecretRef: SecretKeyRefSchema,
  endpoint: Type.Optional(Type.String()),
});
export type DigitalOceanIssuerSpec = Static<typeof DigitalOceanIssuerSpecSchema>;

/** `spec.aws`: Elastic IP (VPC) + a security group. No Secret = the SDK's default chain. */
export const AwsIssuerSpecSchema = Type.Object({
  region: Type.String({ minLength: 1 }),
  credentialsSecretRef: Type.Optional(Type.Object({ name: Type.String({ minLength: 1 }) })),
  endpoint: Type.Optional(Type.String()),
});
export type AwsIssuerSpec = Static<typeof AwsIssuerSpecSchema>;

/** `spec.memory`: the in-process simulated cloud (demos and tests). */
export const MemoryIssuerSpecSchema = Type.Object({
  firewalls: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
});
export type MemoryIssuerSpec = Static<typeof MemoryIssuerSpecSchema>;

/** RoutedIPIssuer `spec`. */
export const RoutedIPIssuerSpecSchema = Type.Object({
  routedIPReclaimPolicy: Type.Optional(Type.String()),
  routedIPFirewallName: Type.Optional(Type.String()),
  firewallSourceRanges: Type.Optional(Type.Array(Type.String())),
  dryRun: Type.Optional(Type.Boolean()),
  digitalocean: Type.Optional(DigitalOceanIssuerSpecSchema),
  aws: Type.Optional(AwsIssuerSpecSchema),
  memory: Type.Optional(MemoryIssuerSpecSchema),
});
export type RoutedIPIssuerSpec = Static<typeof RoutedIPIssuerSpecSchema>;

export const RoutedIPIssuerSchema = KubeObject(RoutedIPIssuerSpecSchema, Type.Unknown());
export type RoutedIPIssuerObject = Static<typeof RoutedIPIssuerSchema>;

/** One explicit node-facing port of `spec.ports` (Kubernetes spelling of the protocol). */
export const NodePortSpecSchema = Type.Object(
  {
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    protocol: Type.Optional(Type.Union([Type.Literal('TCP'), Type.Literal('UDP')])),
  },
  { additionalProperties: false },
);
export type NodePortSpec = Static<typeof NodePortSpecSchema>;

/** RoutedIP `spec`. `ports` overrides the node-facing ports found from the Service. */
export const RoutedIPSpecSchema = Type.Object({
  issuerRef: Type.Object({
    name: Type.String({ minLength: 1 }),
    kind: Type.Optional(Type.Union([Type.Literal('RoutedIPIssuer'), Type.Literal('ClusterRoutedIPIssuer')])),
  }),
  address: Type.Optional(Type.String()),
  serviceRef: Type.Optional(Type.Object({ name: Type.String({ minLength: 1 }) })),
  nodeSelector: Type.Optional(LabelSelectorSchema),
  ports: Type.Optional(Type.Array(NodePortSpecSchema, { maxItems: 64 })),
});
export type RoutedIPSpec = Static<typeof RoutedIPSpecSchema>;

/** Outcome of one step of the last plan. */
export const StepOutcomeSchema = Type.Union([
  Type.Literal('done'),
  Type.Literal('skipped'),
  Type.Literal('pending'),
  Type.Literal('failed'),
]);
export type StepOutcome = Static<typeof StepOutcomeSchema>;

/** One step of the last plan, as reported in `status.steps`. */
export const StepStatusSchema = Type.Object(
  { name: Type.String(), outcome: StepOutcomeSchema, detail: Type.String() },
  { additionalProperties: false },
);
export type StepStatus = Static<typeof StepStatusSchema>;

/** A Kubernetes condition (`metav1.Condition`). */
export const ConditionSchema = Type.Object(
  {
    type: Type.String(),
    status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
    reason: Type.String(),
    message: Type.String(),
    lastTransitionTime: Type.String(),
    observedGeneration: Type.Integer(),
  },
  { additionalProperties: false },
);
export type Condition = Static<typeof ConditionSchema>;

/** A firewall port this RoutedIP manages. */
export const FirewallPortSchema = Type.Object(
  { protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
  { additionalProperties: false },
);
export type FirewallPort = Static<typeof FirewallPortSchema>;

/**
 * One port of the ownership record and the sources (CIDRs) on it that this RoutedIP added, or
 * took over from a sibling that added them (the last RoutedIP needing an entry removes it).
 * `sources` is absent only in records written before sources were tracked: those own the
 * issuer's current sources on the port.
 */
export const AddedPortSchema = Type.Object(
  {
    protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    sources: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type AddedPort = Static<typeof AddedPortSchema>;

/**
 * `status.firewall`: the firewall found, what this RoutedIP needs from it, and what it added.
 * `ports`/`nodes` (and `sources`, the CIDRs it wants on those ports) are what it keeps open:
 * other RoutedIPs sharing the firewall never remove them. `addedPorts`/`addedNodes` are its
 * ownership record: the only entries it may ever remove. Nodes are cloud ids (droplet id,
 * instance id) so they stay removable after a Node is deleted.
 */
export const FirewallStatusSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    ports: Type.Array(FirewallPortSchema),
    sources: Type.Optional(Type.Array(Type.String())),
    nodes: Type.Array(Type.String()),
    addedPorts: Type.Array(AddedPortSchema),
    addedNodes: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type FirewallStatus = Static<typeof FirewallStatusSchema>;

/** `status.pendingAction`: an asynchronous cloud action the next sync polls. */
export const PendingActionSchema = Type.Object(
  { id: Type.String(), type: Type.String(), node: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export type PendingActionStatus = Static<typeof PendingActionSchema>;

/**
 * RoutedIP `status`, returned whole on every sync (Metacontroller replaces `.status`).
 * `additionalProperties: false` so the response serializer and the CRD agree field by field.
 */
export const RoutedIPStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer()),
    address: Type.Optional(Type.String()),
    provider: Type.Optional(Type.String()),
    node: Type.Optional(Type.String()),
    electedNode: Type.Optional(Type.String()),
    firewall: Type.Optional(FirewallStatusSchema),
    pendingAction: Type.Optional(PendingActionSchema),
    steps: Type.Array(StepStatusSchema),
    conditions: Type.Array(ConditionSchema),
  },
  { additionalProperties: false },
);
export type RoutedIPStatus = Static<typeof RoutedIPStatusSchema>;

/**
 * The RoutedIP as received in `parent`. Its status is read as a hint only (it may be stale), so
 * it is accepted loosely: a status from an older version of the service must not cause a 400.
 */
export const RoutedIPSchema = KubeObject(RoutedIPSpecSchema, Type.Unknown());
export type RoutedIPObject = Static<typeof RoutedIPSchema>;

/**
 * RoutedIPIssuer `status`, written by the issuer controller: the provider, how many RoutedIPs use
 * the issuer, and conditions `Ready` (the credentials work: one cheap cloud read, cached) and
 * `FirewallFound` (the named firewall exists, or none is managed).
 */
export const RoutedIPIssuerStatusSchema = Type.Object(
  {
    observedGeneration: Type.Integer(),
    provider: Type.Optional(Type.String()),
    routedIPs: Type.Integer({ minimum: 0 }),
    conditions: Type.Array(ConditionSchema),
  },
  { additionalProperties: false },
);
export type RoutedIPIssuerStatus = Static<typeof RoutedIPIssuerStatusSchema>;
