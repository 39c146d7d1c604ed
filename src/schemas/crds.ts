/**
 * The CustomResourceDefinitions, derived from the TypeBox schemas: `openAPIV3Schema` is computed
 * from the very schemas the hooks validate with, so the API server and the service can never
 * disagree on a field or a limit. What only the API server needs (names, scope, printer columns,
 * subresources) sits beside them here. `npm run manifests` (scripts/manifests.ts) writes
 * `manifests/crds/*.yaml` from `CRDS`; test/manifests/generated.test.ts fails when they differ.
 */
import type { TSchema } from '@sinclair/typebox';
import { API_GROUP, RoutedIPIssuerSpecSchema, RoutedIPIssuerStatusSchema, RoutedIPSpecSchema, RoutedIPStatusSchema } from './routed-ip.js';

/** A structural schema node, as the API server stores it. */
export type StructuralSchema = { [key: string]: unknown };

/** Keys carried over unchanged, in the order they are written. */
const CARRIED = [
  'description',
  'type',
  'required',
  'enum',
  'default',
  'format',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'maxProperties',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;

/**
 * A TypeBox schema as a Kubernetes structural schema:
 * - a union of string literals, or one string literal, becomes `type: string` + `enum` (structural
 *   schemas have no anyOf types);
 * - a string map (`patternProperties`) becomes `additionalProperties`;
 * - `additionalProperties: false` is dropped: the API server prunes unknown fields, and forbids
 *   `additionalProperties` beside `properties`;
 * - a required list is written only when non-empty.
 * Any other construct throws, so a schema the generator cannot express fails `npm run manifests`
 * instead of producing a CRD that says something else.
 */
export function toStructural(input: TSchema, at = ''): StructuralSchema {
  const s = input as StructuralSchema & { anyOf?: StructuralSchema[] };
  if (Array.isArray(s.anyOf)) {
    const values = s.anyOf.map((b) => b.const);
    if (!values.every((v) => typeof v === 'string')) throw new Error(`${at || '/'}: only unions of string literals can be written to a CRD`);
    const { anyOf: _anyOf, ...rest } = s;
    return toStructural({ ...rest, type: 'string', enum: values } as unknown as TSchema, at);
  }
  // A single string literal is an enum of one.
  if (typeof s.const === 'string' && s.enum === undefined) {
    const { const: only, ...rest } = s;
    return toStructural({ ...rest, enum: [only] } as unknown as TSchema, at);
  }
  const out: StructuralSchema = {};
  for (const key of CARRIED) {
    const value = key === 'required' ? ((s.required as string[] | undefined)?.length ? s.required : undefined) : s[key];
    if (value !== undefined) out[key] = value;
  }
  if (out.type === undefined) throw new Error(`${at || '/'}: a CRD schema node needs a type`);
  if (s.properties) {
    const properties = s.properties as Record<string, TSchema>;
    out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, toStructural(v, `${at}/${k}`)]));
  }
  const values = (s.patternProperties as Record<string, TSchema> | undefined)?.['^(.*)$'] ?? (typeof s.additionalProperties === 'object' ? (s.additionalProperties as TSchema) : undefined);
  if (values) out.additionalProperties = toStructural(values, `${at}/*`);
  if (s.items) out.items = toStructural(s.items as TSchema, `${at}/*`);
  return out;
}

/** Names and scope of one kind. */
export interface CrdNames {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
}

/** One CRD: what the generator needs to write `manifests/crds/<file>`. */
export interface CrdDefinition {
  /** File name under manifests/crds/. */
  readonly file: string;
  /** The YAML comment written above the document (why, not what). */
  readonly comment: string;
  readonly names: CrdNames;
  readonly description: string;
  readonly spec: TSchema;
  readonly status?: TSchema;
  readonly subresources?: Record<string, unknown>;
  readonly printerColumns: readonly Record<string, unknown>[];
}

const issuerColumns = [
  { name: 'Provider', type: 'string', jsonPath: '.status.provider' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'RoutedIPs', type: 'integer', description: 'How many RoutedIPs use this issuer.', jsonPath: '.status.routedIPs' },
  { name: 'Firewall', type: 'string', priority: 1, jsonPath: '.spec.routedIPFirewallName' },
  { name: 'Reclaim', type: 'string', priority: 1, jsonPath: '.spec.routedIPReclaimPolicy' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** Every CRD the operator installs. */
export const CRDS: readonly CrdDefinition[] = [
  {
    file: 'routedips.yaml',
    comment: [
      'RoutedIP: one cloud routed IP kept on one healthy node, with the cloud firewall in step.',
      '',
      'The status schema is RoutedIPStatusSchema itself, so the API server never prunes what the',
      'service returns (Metacontroller replaces .status whole and adds observedGeneration).',
    ].join('\n'),
    names: { kind: 'RoutedIP', plural: 'routedips', singular: 'routedip', shortNames: ['rip'], scope: 'Namespaced' },
    description: 'A cloud routed IP (DigitalOcean Reserved IP, AWS Elastic IP, ...) kept pointed at one healthy node.',
    spec: RoutedIPSpecSchema,
    status: RoutedIPStatusSchema,
    // Required by Metacontroller: without it the CompositeController is ignored.
    subresources: { status: {} },
    printerColumns: [
      { name: 'Address', type: 'string', jsonPath: '.status.address' },
      { name: 'Node', type: 'string', jsonPath: '.status.node' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Reason', type: 'string', priority: 1, jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
      { name: 'Issuer', type: 'string', priority: 1, jsonPath: '.spec.issuerRef.name' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
  {
    file: 'routedipissuers.yaml',
    comment: [
      'RoutedIPIssuer: how to talk to one cloud account/region. The service reads it from',
      'Metacontroller\'s related resources on every RoutedIP sync; the issuer controller',
      '(metacontroller/compositecontroller-issuers.yaml) writes its status and holds a deleted issuer',
      'until no RoutedIP uses it.',
      'The service re-checks the spec against the same schema and reports violations as a condition,',
      'for objects stored before a rule existed.',
    ].join('\n'),
    names: { kind: 'RoutedIPIssuer', plural: 'routedipissuers', singular: 'routedipissuer', shortNames: ['ripissuer'], scope: 'Namespaced' },
    description: 'How to talk to one cloud account and region. Exactly one provider block is set.',
    spec: RoutedIPIssuerSpecSchema,
    status: RoutedIPIssuerStatusSchema,
    // Required by Metacontroller: the issuer controller writes status.
    subresources: { status: {} },
    printerColumns: issuerColumns,
  },
  {
    file: 'clusterroutedipissuers.yaml',
    comment: [
      'ClusterRoutedIPIssuer: a RoutedIPIssuer for the whole cluster (cert-manager\'s ClusterIssuer).',
      'Same spec; its credentials Secrets are read from the operator\'s namespace (OPERATOR_NAMESPACE,',
      'default routedip-system), and an aws block without credentialsSecretRef may use the operator\'s',
      'own identity (IRSA, instance role). Only cluster administrators should be allowed to create it',
      '(docs/security.md). RoutedIPs name it with spec.issuerRef.kind: ClusterRoutedIPIssuer.',
      'Its controller (metacontroller/compositecontroller-clusterissuers.yaml) writes its status and',
      'holds a deleted one until no RoutedIP of any namespace uses it.',
    ].join('\n'),
    names: { kind: 'ClusterRoutedIPIssuer', plural: 'clusterroutedipissuers', singular: 'clusterroutedipissuer', shortNames: ['cripissuer'], scope: 'Cluster' },
    description: 'How to talk to one cloud account and region, for RoutedIPs of every namespace. Exactly one provider block is set.',
    spec: RoutedIPIssuerSpecSchema,
    status: RoutedIPIssuerStatusSchema,
    // Required by Metacontroller: the cluster issuer controller writes status.
    subresources: { status: {} },
    printerColumns: issuerColumns,
  },
];

/** The CRD object of `d`, ready to be written as YAML (key order is the written order). */
export function crdObject(d: CrdDefinition): Record<string, unknown> {
  const { kind, plural, singular, shortNames, scope } = d.names;
  const properties: Record<string, unknown> = {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: toStructural(d.spec, '/spec'),
    ...(d.status ? { status: toStructural(d.status, '/status') } : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${API_GROUP}`,
      labels: { 'app.kubernetes.io/name': 'routedip-operator', 'app.kubernetes.io/part-of': 'routedip-operator' },
    },
    spec: {
      group: API_GROUP,
      scope,
      names: { kind, listKind: `${kind}List`, plural, singular, shortNames: [...shortNames], categories: ['routedip'] },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          ...(d.subresources ? { subresources: d.subresources } : {}),
          additionalPrinterColumns: d.printerColumns,
          schema: { openAPIV3Schema: { description: d.description, type: 'object', required: ['spec'], properties } },
        },
      ],
    },
  };
}
