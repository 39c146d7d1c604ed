/**
 * RoutedIP and RoutedIPIssuer (group `routedip.io`, version `v1alpha1`) as TypeBox schemas: THE
 * source of truth for both the service and the API server. Every limit the CRDs state (lengths,
 * item counts, patterns, formats, CEL rules, descriptions) is written here; `npm run manifests`
 * derives the CRDs in `manifests/crds/` from these schemas (src/schemas/crds.ts), and a test fails
 * when the committed YAML is not what the generator writes. To change a field: edit it here, run
 * `npm run manifests`, commit both.
 *
 * Semantic rules the CEL rules cannot see (a Secret that exists and is labelled, which provider is
 * allowed where) are checked by the reconcile layer and reported as status conditions.
 */
import { Type, type Static } from '@sinclair/typebox';
import './formats.js';
import { KubeObject, LabelSelectorSchema } from './kubernetes.js';

/** API group and version of both kinds. */
export const API_GROUP = 'routedip.io';
export const API_VERSION = `${API_GROUP}/v1alpha1`;

/** The kinds of issuer a RoutedIP may name in `spec.issuerRef.kind`. */
export const ISSUER_KINDS = ['RoutedIPIssuer', 'ClusterRoutedIPIssuer'] as const;
export type IssuerKind = (typeof ISSUER_KINDS)[number];

/** Label a credentials Secret must carry to be delivered to the service (any value). */
export const ISSUER_SECRET_LABEL = 'routedip.io/issuer';

/** A CEL rule of the API server (`x-kubernetes-validations`), carried by the schema it guards. */
export interface CelRule {
  readonly rule: string;
  readonly message: string;
}
const cel = (...rules: CelRule[]) => ({ 'x-kubernetes-validations': rules });
const immutable = (message: string) => cel({ rule: 'self == oldSelf', message });

/** A Kubernetes object name (DNS-1123 subdomain), as Secrets and issuers are named. */
const ObjectName = (description?: string) =>
  Type.String({
    ...(description ? { description } : {}),
    minLength: 1,
    maxLength: 253,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  });

/** Cloud firewall names: what AWS allows for security groups (DigitalOcean allows fewer). */
const FIREWALL_NAME = {
  minLength: 1,
  maxLength: 255,
  pattern: '^[A-Za-z0-9]([A-Za-z0-9 ._:/()#,@+=&;{}!$*\\[\\]-]*[A-Za-z0-9._:/()#,@+=&;{}!$*\\[\\]-])?$',
} as const;

/** An API endpoint override (tests, compatible APIs); the operator's allowlist decides if it is used. */
const Endpoint = (description: string) => Type.String({ description, maxLength: 2048, pattern: '^https?://[^\\s]+$' });

const SecretKeyRefSchema = Type.Object({
  name: ObjectName(),
  key: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' })),
});

/** `spec.digitalocean`: Reserved IPv4 + Cloud Firewalls. */
export const DigitalOceanIssuerSpecSchema = Type.Object(
  {
    region: Type.String({
      description: 'The region slug, e.g. nyc3. Immutable.',
      minLength: 1,
      maxLength: 16,
      pattern: '^[a-z0-9]+$',
      ...immutable('spec.digitalocean.region is immutable (the IPs of this issuer live there); create a new issuer'),
    }),
    tokenSecretRef: Type.Object(SecretKeyRefSchema.properties, {
      description:
        "A Secret labelled routedip.io/issuer holding the API token (key default token), in the issuer's namespace (the operator's namespace for a ClusterRoutedIPIssuer).",
    }),
    endpoint: Type.Optional(
      Endpoint('API base URL (tests, compatible APIs). Default https://api.digitalocean.com/v2. Used only when the operator allows its host (ISSUER_ENDPOINT_HOSTS).'),
    ),
    firewallTag: Type.Optional(
      Type.String({
        description:
          "Tag membership (recommended): the droplet holding the IP gets this tag and the firewall applies to the tag (added to the firewall once, created when missing), so the firewall's 10-Droplet limit does not apply. Droplets carrying the tag are the operator's: use a tag of its own. Letters, digits, colons, dashes and underscores, at most 255 (DigitalOcean's tag rules). Absent = the droplet is added to the firewall by id. Cannot be changed or removed once set.",
        minLength: 1,
        maxLength: 255,
        pattern: '^[a-zA-Z0-9_:-]+$',
      }),
    ),
  },
  {
    description: 'DigitalOcean Reserved IPv4 and Cloud Firewalls.',
    ...cel({
      rule: '!has(oldSelf.firewallTag) || (has(self.firewallTag) && self.firewallTag == oldSelf.firewallTag)',
      message:
        'spec.digitalocean.firewallTag cannot be changed or removed once set: the droplets tagged with it would stay in the firewall. Delete the RoutedIPs (reclaim policy Delete untags them), then create a new RoutedIPIssuer',
    }),
  },
);
export type DigitalOceanIssuerSpec = Static<typeof DigitalOceanIssuerSpecSchema>;

/** `spec.aws`: Elastic IP (VPC) + a security group. No Secret = ambient credentials, where allowed. */
export const AwsIssuerSpecSchema = Type.Object(
  {
    region: Type.String({
      description: 'The region, e.g. us-east-1. Immutable.',
      minLength: 1,
      maxLength: 32,
      pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$',
      ...immutable('spec.aws.region is immutable (the IPs of this issuer live there); create a new issuer'),
    }),
    credentialsSecretRef: Type.Optional(
      Type.Object(
        { name: ObjectName() },
        {
          description:
            "A Secret labelled routedip.io/issuer with keys accessKeyId, secretAccessKey and optionally sessionToken, in the issuer's namespace (the operator's namespace for a ClusterRoutedIPIssuer). Absent = the operator's ambient identity (IRSA, instance role): always allowed for a ClusterRoutedIPIssuer, for a RoutedIPIssuer only in the namespaces of ISSUER_AMBIENT_CREDENTIALS_NAMESPACES.",
        },
      ),
    ),
    endpoint: Type.Optional(Endpoint('EC2 endpoint URL (tests, compatible APIs). Default the region\'s endpoint. Used only when the operator allows its host (ISSUER_ENDPOINT_HOSTS).')),
    privateIPs: Type.Optional(
      Type.Union([Type.Literal('PrimaryOnly'), Type.Literal('DedicatedSecondaries')], {
        description:
          "Which private IPs of a node's primary network interface an Elastic IP may be associated with. PrimaryOnly (default): only the primary private IP; a node whose primary private IP already holds another Elastic IP is not elected. Right for the VPC CNI, whose secondary private IPs are pod and warm-pool IPs. DedicatedSecondaries: the secondary private IPs are reserved for Elastic IPs (no CNI hands them out), so one node may hold several, one per free private IP.",
        default: 'PrimaryOnly',
      }),
    ),
  },
  { description: 'AWS Elastic IP (VPC) and a security group.' },
);
export type AwsIssuerSpec = Static<typeof AwsIssuerSpecSchema>;

/** `spec.hetzner`: Hetzner Cloud Floating IPv4 + Hetzner Cloud Firewalls in one location. */
export const HetznerIssuerSpecSchema = Type.Object(
  {
    location: Type.String({
      description: 'The location name, e.g. fsn1. Only servers in this location are eligible. Immutable.',
      minLength: 1,
      maxLength: 16,
      pattern: '^[a-z0-9]+(-[a-z0-9]+)*$',
      ...immutable('spec.hetzner.location is immutable (the IPs of this issuer live there); create a new issuer'),
    }),
    tokenSecretRef: Type.Object(SecretKeyRefSchema.properties, {
      description:
        "A Secret labelled routedip.io/issuer holding a Read & Write API token of the project (key default token), in the issuer's namespace (the operator's namespace for a ClusterRoutedIPIssuer).",
    }),
    endpoint: Type.Optional(
      Endpoint('API base URL (tests, compatible APIs). Default https://api.hetzner.cloud/v1. Used only when the operator allows its host (ISSUER_ENDPOINT_HOSTS).'),
    ),
  },
  { description: 'Hetzner Cloud Floating IPv4 and Hetzner Cloud Firewalls.' },
);
export type HetznerIssuerSpec = Static<typeof HetznerIssuerSpecSchema>;

/** `spec.memory`: the in-process simulated cloud (demos and tests). */
export const MemoryIssuerSpecSchema = Type.Object(
  {
    firewalls: Type.Optional(
      Type.Array(Type.String(FIREWALL_NAME), { description: 'Firewalls that exist in the simulated account.', maxItems: 64 }),
    ),
  },
  { description: 'The in-process simulated cloud, for demos and tests only (the operator may switch it off: MEMORY_PROVIDER).' },
);
export type MemoryIssuerSpec = Static<typeof MemoryIssuerSpecSchema>;

/** The reclaim policies: what DeleteRoutedIP does. */
export const ReclaimPolicySchema = Type.Union([Type.Literal('Retain'), Type.Literal('Delete')], {
  description:
    'What deleting a RoutedIP does to the cloud. Retain leaves everything; Delete unassigns and releases an IP the operator created and removes the firewall rules and nodes it added.',
  default: 'Retain',
});

/** RoutedIPIssuer and ClusterRoutedIPIssuer `spec`. */
export const RoutedIPIssuerSpecSchema = Type.Object(
  {
    routedIPReclaimPolicy: Type.Optional(ReclaimPolicySchema),
    routedIPFirewallName: Type.Optional(
      Type.String({
        description:
          'The cloud firewall (DigitalOcean Cloud Firewall, AWS security group, Hetzner Cloud Firewall) to keep in step. It must exist: it is never created. Absent = no firewall management. Letters, digits, spaces and ._:/()#,@+=&;{}!$*[]- (what AWS allows; DigitalOcean allows fewer), no leading or trailing space.',
        ...FIREWALL_NAME,
      }),
    ),
    firewallSourceRanges: Type.Optional(
      Type.Array(Type.String({ format: 'cidr', maxLength: 43 }), {
        description: 'Source CIDRs (IPv4 or IPv6) of the managed inbound rules. Default 0.0.0.0/0 and ::/0.',
        minItems: 1,
        maxItems: 64,
        'x-kubernetes-list-type': 'set',
      }),
    ),
    dryRun: Type.Optional(Type.Boolean({ description: 'Plan and report in status, never mutate the cloud.', default: false })),
    digitalocean: Type.Optional(DigitalOceanIssuerSpecSchema),
    aws: Type.Optional(AwsIssuerSpecSchema),
    hetzner: Type.Optional(HetznerIssuerSpecSchema),
    memory: Type.Optional(MemoryIssuerSpecSchema),
  },
  cel(
    {
      rule: '[has(self.digitalocean), has(self.aws), has(self.hetzner), has(self.memory)].filter(p, p).size() == 1',
      message: 'exactly one of spec.digitalocean, spec.aws, spec.hetzner or spec.memory must be set',
    },
    {
      rule: 'has(self.digitalocean) == has(oldSelf.digitalocean) && has(self.aws) == has(oldSelf.aws) && has(self.hetzner) == has(oldSelf.hetzner) && has(self.memory) == has(oldSelf.memory)',
      message:
        'the provider (digitalocean, aws, hetzner or memory) cannot be changed: the RoutedIPs of this issuer would lose track of their cloud IPs; create a new issuer instead',
    },
    {
      rule: '!has(oldSelf.routedIPFirewallName) || (has(self.routedIPFirewallName) && self.routedIPFirewallName == oldSelf.routedIPFirewallName)',
      message:
        'spec.routedIPFirewallName cannot be changed or removed once set: the rules and nodes the RoutedIPs added to that firewall would be orphaned. Delete the RoutedIPs (reclaim policy Delete cleans the firewall), then create a new RoutedIPIssuer',
    },
  ),
);
export type RoutedIPIssuerSpec = Static<typeof RoutedIPIssuerSpecSchema>;

export const RoutedIPIssuerSchema = KubeObject(RoutedIPIssuerSpecSchema, Type.Unknown());
export type RoutedIPIssuerObject = Static<typeof RoutedIPIssuerSchema>;

/**
 * An issuer as delivered in `related`: its spec is checked against RoutedIPIssuerSpecSchema by
 * the reconcile layer, so an issuer stored before a rule existed gives its RoutedIPs a condition
 * naming the field (InvalidIssuerSpec), not an HTTP 400 that leaves them without status.
 */
export const DeliveredIssuerSchema = KubeObject(Type.Unknown(), Type.Unknown());
export type DeliveredIssuer = Static<typeof DeliveredIssuerSchema>;

/** One explicit node-facing port of `spec.ports` (Kubernetes spelling of the protocol). */
export const NodePortSpecSchema = Type.Object(
  {
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    protocol: Type.Optional(Type.Union([Type.Literal('TCP'), Type.Literal('UDP')])),
  },
  { additionalProperties: false },
);
export type NodePortSpec = Static<typeof NodePortSpecSchema>;

/** Operators of a node selector requirement: the label operators, and Gt/Lt on integer label values. */
const NODE_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] as const;

/**
 * `core/v1 NodeSelectorRequirement` on node labels, as node affinity has it: In/NotIn/Exists/
 * DoesNotExist like a label selector, Gt/Lt compare the label's integer value with the one value.
 */
export const NodeSelectorRequirementSchema = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 317 }),
    operator: Type.Union(NODE_SELECTOR_OPERATORS.map((o) => Type.Literal(o))),
    values: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { maxItems: 64 })),
  },
  {
    additionalProperties: false,
    ...cel({
      rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : self.operator in ['Gt', 'Lt'] ? (has(self.values) && size(self.values) == 1 && self.values[0].matches('^[-+]?[0-9]{1,18}$')) : (!has(self.values) || size(self.values) == 0)",
      message: 'values must be non-empty for In and NotIn, exactly one integer for Gt and Lt, and empty for Exists and DoesNotExist',
    }),
  },
);
export type NodeSelectorRequirement = Static<typeof NodeSelectorRequirementSchema>;

/** `core/v1 NodeSelectorRequirement` on node fields: only `metadata.name`, In or NotIn, one value (as the API server allows). */
export const NodeFieldRequirementSchema = Type.Object(
  {
    key: Type.Literal('metadata.name'),
    operator: Type.Union([Type.Literal('In'), Type.Literal('NotIn')]),
    values: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 1 }),
  },
  { additionalProperties: false },
);
export type NodeFieldRequirement = Static<typeof NodeFieldRequirementSchema>;

/**
 * `core/v1 PreferredSchedulingTerm`: the shape of a Pod's
 * `affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution` items. A node's score is
 * the sum of the weights of the terms it matches; a term matches when all its requirements hold;
 * a term with no requirement counts for nothing (as in the scheduler).
 */
export const PreferredNodeTermSchema = Type.Object(
  {
    weight: Type.Integer({ minimum: 1, maximum: 100, description: 'Added to the score of every node matching the preference (1-100).' }),
    preference: Type.Object(
      {
        matchExpressions: Type.Optional(Type.Array(NodeSelectorRequirementSchema, { maxItems: 16, description: 'Requirements on node labels.' })),
        matchFields: Type.Optional(Type.Array(NodeFieldRequirementSchema, { maxItems: 16, description: 'Requirements on node fields (metadata.name only).' })),
      },
      { additionalProperties: false, description: 'A node selector term: every requirement must hold.' },
    ),
  },
  { additionalProperties: false },
);
export type PreferredNodeTerm = Static<typeof PreferredNodeTermSchema>;

/** Longest grace of `spec.failover.graceSeconds`: an hour of a dead holder keeping the IP is already more than any flap. */
export const MAX_FAILOVER_GRACE_SECONDS = 3600;

/** RoutedIP `spec`. `ports` overrides the node-facing ports found from the Service. */
export const RoutedIPSpecSchema = Type.Object(
  {
    issuerRef: Type.Object(
      {
        name: ObjectName(),
        kind: Type.Optional(
          Type.Union([Type.Literal('RoutedIPIssuer'), Type.Literal('ClusterRoutedIPIssuer')], {
            description: 'RoutedIPIssuer (default: in the same namespace) or ClusterRoutedIPIssuer (cluster-wide, set up by the cluster administrator).',
          }),
        ),
      },
      {
        description: 'The issuer of the IP: a RoutedIPIssuer in the same namespace or a ClusterRoutedIPIssuer. Immutable.',
        ...immutable('spec.issuerRef is immutable: the IP lives in the issuer\'s cloud account; create a new RoutedIP to use another issuer'),
      },
    ),
    address: Type.Optional(
      Type.String({
        description:
          'Recover or adopt this existing IPv4 address; it is never created, and a Delete reclaim policy only unassigns it. Absent = the operator creates the IP. Immutable.',
        format: 'ipv4',
        maxLength: 15,
        ...immutable('spec.address is immutable; create a new RoutedIP for another address'),
      }),
    ),
    serviceRef: Type.Optional(
      Type.Object(
        { name: Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$' }) },
        { description: 'A ClusterIP Service in the same namespace whose ready endpoints decide the eligible nodes and whose ports the firewall opens.' },
      ),
    ),
    nodeSelector: Type.Optional(
      Type.Object(LabelSelectorSchema.properties, {
        additionalProperties: false,
        description: 'A label selector that further restricts the eligible nodes.',
        'x-kubernetes-map-type': 'atomic',
      }),
    ),
    nodePreference: Type.Optional(
      Type.Array(PreferredNodeTermSchema, {
        maxItems: 16,
        description:
          'Weighted preferences on node labels, the shape of preferredDuringSchedulingIgnoredDuringExecution: a fresh election picks, among the eligible nodes, one with the highest sum of the weights of the terms it matches. Used only when the IP has to go somewhere new: a holder that stays eligible keeps the IP (moving it drops connections).',
      }),
    ),
    failover: Type.Optional(
      Type.Object(
        {
          graceSeconds: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: MAX_FAILOVER_GRACE_SECONDS,
              default: 0,
              description:
                'How long a holder that turned not Ready, got a NoExecute taint or lost its ready endpoints keeps the IP before it moves (endpoint flaps). 0 (default) = move at once. A cordoned node, a node no longer matching nodeSelector, or one deleted, loses it at once.',
            }),
          ),
        },
        { additionalProperties: false, description: 'When a holder that turned ineligible gives the IP up.' },
      ),
    ),
    ports: Type.Optional(
      Type.Array(NodePortSpecSchema, {
        maxItems: 64,
        description: 'Explicit node-facing ports to open; overrides the ports found from the Service (hostPort, hostNetwork or EndpointSlice ports).',
      }),
    ),
  },
  cel({
    rule: 'has(self.address) == has(oldSelf.address)',
    message:
      'spec.address cannot be added or removed after creation: switching between an IP the operator created and an adopted one would orphan a cloud IP; create a new RoutedIP instead',
  }),
);
export type RoutedIPSpec = Static<typeof RoutedIPSpecSchema>;
/**
 * Longest step detail or condition message, in characters. The status carries about a dozen of
 * them; with this bound and the Kubernetes name limits the whole status stays far below etcd's
 * object limit (test/schemas/status-bound.test.ts measures it at the CRD maxima).
 */
export const STATUS_TEXT_MAX = 1024;

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
  { name: Type.String(), outcome: StepOutcomeSchema, detail: Type.String({ maxLength: STATUS_TEXT_MAX }) },
  { additionalProperties: false },
);
export type StepStatus = Static<typeof StepStatusSchema>;

/** A Kubernetes condition (`metav1.Condition`). */
export const ConditionSchema = Type.Object(
  {
    type: Type.String(),
    status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
    reason: Type.String(),
    message: Type.String({ maxLength: STATUS_TEXT_MAX }),
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
 * ownership record: the only entries it may ever remove. Entries are recorded before being added;
 * an entry absent from the cloud is a pending claim (see src/plan/firewall.ts). Nodes are cloud ids (droplet id,
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
  {
    additionalProperties: false,
    description:
      'The firewall found, what this RoutedIP needs from it (ports, nodes) and what it added (addedPorts, addedNodes): the only entries it may ever remove.',
  },
);
export type FirewallStatus = Static<typeof FirewallStatusSchema>;

/** `status.pendingAction`: an asynchronous cloud action the next sync polls. */
export const PendingActionSchema = Type.Object(
  { id: Type.String(), type: Type.String(), node: Type.Optional(Type.String()) },
  { additionalProperties: false, description: 'An asynchronous cloud action in progress; the next sync polls it.' },
);
export type PendingActionStatus = Static<typeof PendingActionSchema>;

/**
 * `status.createIntent`: where and when this RoutedIP decided to create its address, written in
 * the status of one sync and acted on only by a later one (which sees it in `parent.status`),
 * for clouds whose addresses carry no mark (DigitalOcean). It is the ownership evidence of a
 * created address whose answer was lost: an address that appears on `target` and is not one of
 * `knownAddresses` (every address of the region when the intent was recorded) is this
 * RoutedIP's. `since` (RFC 3339) bounds when a create may still be sent and when a create that
 * found nothing may be abandoned. See docs/design.md "Ownership".
 */
export const CreateIntentSchema = Type.Object(
  {
    node: Type.String({ description: 'The node the IP is to be created on.' }),
    target: Type.String({ description: "That node's machine id in the cloud (a droplet id)." }),
    since: Type.String({ description: 'When the intent was recorded (RFC 3339).' }),
    knownAddresses: Type.Array(Type.String(), { description: "Every address of the issuer's region when the intent was recorded." }),
  },
  { additionalProperties: false, description: 'Where and when a reserved IP is about to be created (clouds that cannot mark an IP): the evidence that an IP appearing there is ours.' },
);
export type CreateIntent = Static<typeof CreateIntentSchema>;

/**
 * `status.holderIneligible`: since when the node holding the IP has been ineligible for a reason
 * `spec.failover.graceSeconds` waits out. Written by the sync that first sees it, kept while it
 * lasts, dropped when the holder recovers or the IP moved. See docs/design.md "Failover grace".
 */
export const HolderIneligibleSchema = Type.Object(
  {
    node: Type.String({ description: 'The holder.' }),
    since: Type.String({ description: 'When it was first seen ineligible (RFC 3339).' }),
    reason: Type.String({ description: 'Why it is ineligible.' }),
  },
  { additionalProperties: false, description: 'Since when the holder has been ineligible: the clock of spec.failover.graceSeconds.' },
);
export type HolderIneligible = Static<typeof HolderIneligibleSchema>;

/**
 * RoutedIP `status`, returned whole on every sync (Metacontroller replaces `.status`).
 * `additionalProperties: false` so the response serializer and the CRD agree field by field.
 */
export const RoutedIPStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer()),
    address: Type.Optional(Type.String()),
    provider: Type.Optional(Type.String()),
    node: Type.Optional(Type.String({ description: 'The node that holds the IP, as observed in the cloud.' })),
    electedNode: Type.Optional(Type.String({ description: 'The node the IP should be on.' })),
    firewall: Type.Optional(FirewallStatusSchema),
    pendingAction: Type.Optional(PendingActionSchema),
    createIntent: Type.Optional(CreateIntentSchema),
    holderIneligible: Type.Optional(HolderIneligibleSchema),
    steps: Type.Array(StepStatusSchema, { description: 'The last plan, each step with its outcome.' }),
    conditions: Type.Array(ConditionSchema, {
      description: 'Ready, IPAllocated, Assigned, FirewallReady, IssuerReady.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  },
  { additionalProperties: false, description: 'Returned whole by the service on every sync; see PRODUCT.md "Status".' },
);
export type RoutedIPStatus = Static<typeof RoutedIPStatusSchema>;

/**
 * The RoutedIP as received in `parent`. Its status is read as a hint only (it may be stale), so
 * it is accepted loosely: a status from an older version of the service must not cause a 400.
 */
export const RoutedIPSchema = KubeObject(RoutedIPSpecSchema, Type.Unknown());
export type RoutedIPObject = Static<typeof RoutedIPSchema>;

/** Records kept in `status.orphans` at most (the condition still counts every orphan). */
export const MAX_ORPHAN_RECORDS = 50;

/** What an orphan is: a cloud address, or one (port, source) pair of a firewall rule. */
export type OrphanKind = 'address' | 'rule';

/**
 * One orphan the sweep found: a cloud address, or a firewall rule's (port, source) pair, carrying
 * our marks whose RoutedIP no longer exists. `since` is when it was first seen orphaned (RFC
 * 3339); it is the stateless clock of the grace period, carried from status to status like a
 * create intent (docs/design.md "Orphan sweep"). A record without `kind` (written before rules
 * were swept) is an address.
 */
export const OrphanRecordSchema = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('address'), Type.Literal('rule')], { description: 'address or rule (absent: address).' })),
    id: Type.String({ description: 'Cloud id of the address (eipalloc-…, Floating IP id); for a rule, "<firewall id> <protocol>/<port> <source>".' }),
    address: Type.Optional(Type.String({ description: 'The address (kind address).' })),
    firewall: Type.Optional(Type.String({ description: 'Cloud id of the firewall holding the rule (kind rule).' })),
    rule: Type.Optional(Type.String({ description: 'The rule\'s pair, "<protocol>/<port> <source>" (kind rule).' })),
    owner: Type.String({ description: 'The RoutedIP its marks name (namespace/name, or its UID when only that is marked).' }),
    since: Type.String({ description: 'When the sweep first saw it orphaned (RFC 3339).' }),
  },
  { additionalProperties: false },
);
export type OrphanRecord = Static<typeof OrphanRecordSchema>;

/**
 * RoutedIPIssuer `status`, written by the issuer controller: the provider, how many RoutedIPs use
 * the issuer, the orphans the sweep found, and conditions `Ready` (the credentials work: one cheap
 * cloud read, cached), `FirewallFound` (the named firewall exists, or none is managed) and
 * `OrphansFound` (marked addresses and firewall rules whose RoutedIP is gone).
 */
export const RoutedIPIssuerStatusSchema = Type.Object(
  {
    observedGeneration: Type.Integer(),
    provider: Type.Optional(Type.String()),
    routedIPs: Type.Integer({ minimum: 0 }),
    orphans: Type.Optional(
      Type.Array(OrphanRecordSchema, {
        maxItems: MAX_ORPHAN_RECORDS,
        description: 'Addresses and firewall rules carrying our marks whose RoutedIP no longer exists, with when each was first seen orphaned.',
      }),
    ),
    conditions: Type.Array(ConditionSchema),
  },
  { additionalProperties: false },
);
export type RoutedIPIssuerStatus = Static<typeof RoutedIPIssuerStatusSchema>;
