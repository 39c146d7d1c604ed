/**
 * Turns a decoded hook request into what reconcile works with: the RoutedIP, its issuer (if
 * delivered and valid), the related objects of its namespace, and what sibling RoutedIPs use.
 * Semantic problems are returned as a `ConfigProblem`, reported as a condition, never thrown.
 */
import type { EndpointSlice, Node, Pod, Secret, Service } from '../schemas/kubernetes.js';
import { RELATED, type SyncRequest } from '../schemas/metacontroller.js';
import { schemaProblem } from '../schemas/check.js';
import { RoutedIPIssuerSpecSchema, type IssuerKind, type RoutedIPIssuerSpec, type RoutedIPSpec } from '../schemas/routed-ip.js';
import { readRoutedIPSpec, type DeliveredRoutedIP } from '../schemas/delivered.js';
import { DEFAULT_POLICY, describeIssuer } from './policy.js';
import type { ProviderName, RoutedIPOwner } from '../issuers/issuer.js';
import { readStatusHint, type StatusHint } from './hints.js';

/** A spec problem the user must fix; `reason` is the condition reason. */
export interface ConfigProblem {
  readonly reason: string;
  readonly message: string;
}

/** Default sources of managed inbound rules. */
export const DEFAULT_SOURCE_RANGES = ['0.0.0.0/0', '::/0'] as const;

/** The issuer as the reconcile layer needs it. */
export interface IssuerSettings {
  readonly kind: IssuerKind;
  /** The issuer's namespace; for a ClusterRoutedIPIssuer, the operator's (where its Secrets are read). */
  readonly namespace: string;
  readonly name: string;
  readonly provider: ProviderName;
  readonly spec: RoutedIPIssuerSpec;
  readonly reclaimPolicy: 'Retain' | 'Delete';
  readonly firewallName?: string;
  readonly sources: readonly string[];
  readonly dryRun: boolean;
  readonly region?: string;
}

/** Everything one hook call is about. */
export interface SyncContext {
  /**
   * The RoutedIP. Its `spec` is the valid spec; when the stored spec violates the schema it holds
   * only the valid fields (and is absent without a valid issuerRef), and `specProblem` says why.
   */
  readonly parent: DeliveredRoutedIP & { readonly spec?: RoutedIPSpec };
  /** The stored spec violates the schema: sync does nothing but say so (InvalidSpec). */
  readonly specProblem?: ConfigProblem;
  /** The spec names an address to adopt (even an unreadable one): finalize never releases it. */
  readonly adopts: boolean;
  readonly owner: RoutedIPOwner;
  readonly generation: number;
  readonly previous: StatusHint;
  readonly issuer: IssuerSettings | ConfigProblem;
  readonly secrets: ReadonlyMap<string, Secret>;
  readonly nodes: readonly Node[];
  readonly service?: Service;
  readonly slices: readonly EndpointSlice[];
  /** Pods of the namespace (to find hostPorts); undefined when Metacontroller delivered none. */
  readonly pods?: readonly Pod[];
  /** Status hints of the other RoutedIPs delivered with the call. */
  readonly siblings: readonly SiblingHint[];
}

/** Another RoutedIP: its uid, its status hint and the address its spec adopts. */
export interface SiblingHint extends StatusHint {
  readonly uid: string;
  readonly specAddress?: string;
}

const PROVIDERS: readonly ProviderName[] = ['digitalocean', 'aws', 'hetzner', 'memory'];

const inNamespace = <T extends { metadata: { namespace?: string } }>(group: Record<string, T> | undefined, ns: string): T[] =>
  Object.values(group ?? {}).filter((o) => (o.metadata.namespace ?? ns) === ns);

/** Validates an issuer spec against the CRD's schema and rules; the first problem found is returned. */
export function issuerSettings(kind: IssuerKind, namespace: string, name: string, raw: unknown): IssuerSettings | ConfigProblem {
  const who = describeIssuer(kind, namespace, name);
  if (raw === undefined || raw === null) return { reason: 'InvalidIssuerSpec', message: `${who} has no spec` };
  const invalid = schemaProblem(RoutedIPIssuerSpecSchema, raw, 'spec');
  if (invalid !== undefined) return { reason: 'InvalidIssuerSpec', message: `${who}: ${invalid}` };
  const spec = raw as RoutedIPIssuerSpec;
  const blocks = PROVIDERS.filter((p) => spec[p] !== undefined);
  const provider = blocks[0];
  if (blocks.length !== 1 || provider === undefined) {
    return { reason: 'InvalidIssuerSpec', message: `${who} must set exactly one of ${PROVIDERS.join(', ')} (found ${blocks.length === 0 ? 'none' : blocks.join(', ')})` };
  }
  const policy = spec.routedIPReclaimPolicy ?? 'Retain';
  const sources = [...new Set(spec.firewallSourceRanges ?? DEFAULT_SOURCE_RANGES)].sort();
  if (sources.length === 0) return { reason: 'InvalidIssuerSpec', message: 'firewallSourceRanges must not be empty' };
  // Hetzner's cloud-controller-manager puts the location in topology.kubernetes.io/region.
  const region = provider === 'digitalocean' ? spec.digitalocean?.region : provider === 'aws' ? spec.aws?.region : provider === 'hetzner' ? spec.hetzner?.location : undefined;
  const firewallName = spec.routedIPFirewallName === '' ? undefined : spec.routedIPFirewallName;
  return {
    kind,
    namespace,
    name,
    provider,
    spec,
    reclaimPolicy: policy,
    ...(firewallName !== undefined ? { firewallName } : {}),
    sources,
    dryRun: spec.dryRun === true,
    ...(region !== undefined ? { region } : {}),
  };
}

/**
 * Builds the context of one call. A RoutedIP names a RoutedIPIssuer of its namespace, or (with
 * `issuerRef.kind: ClusterRoutedIPIssuer`) a cluster-scoped one whose Secrets are read from
 * `operatorNamespace`.
 */
export function buildContext(request: SyncRequest, operatorNamespace: string = DEFAULT_POLICY.operatorNamespace): SyncContext {
  const read = readRoutedIPSpec(request.parent.spec);
  const { issuerRef, ...rest } = read.validParts;
  const validSpec: RoutedIPSpec | undefined = read.spec ?? (issuerRef ? { ...rest, issuerRef } : undefined);
  const { spec: _stored, ...object } = request.parent;
  const parent: SyncContext['parent'] = validSpec ? { ...object, spec: validSpec } : object;
  const specProblem: ConfigProblem | undefined = read.problem === undefined ? undefined : { reason: 'InvalidSpec', message: `RoutedIP ${read.problem}` };
  const ns = parent.metadata.namespace ?? 'default';
  const owner: RoutedIPOwner = { namespace: ns, name: parent.metadata.name, uid: parent.metadata.uid ?? `${ns}/${parent.metadata.name}` };
  const related = request.related ?? {};
  const issuerName = parent.spec?.issuerRef.name ?? '';
  const kind: IssuerKind = parent.spec?.issuerRef.kind ?? 'RoutedIPIssuer';
  const cluster = kind === 'ClusterRoutedIPIssuer';
  const issuerNamespace = cluster ? operatorNamespace : ns;
  const issuerObject = cluster
    ? Object.values(related[RELATED.clusterIssuers] ?? {}).find((i) => i.metadata.name === issuerName)
    : inNamespace(related[RELATED.issuers], ns).find((i) => i.metadata.name === issuerName);
  const issuer: IssuerSettings | ConfigProblem = !parent.spec
    ? (specProblem ?? { reason: 'InvalidSpec', message: 'RoutedIP spec: required' })
    : !issuerObject
      ? { reason: 'IssuerNotFound', message: `${describeIssuer(kind, ns, issuerName)} not found` }
      : issuerSettings(kind, issuerNamespace, issuerObject.metadata.name, issuerObject.spec);
  const serviceName = parent.spec?.serviceRef?.name;
  const service = serviceName === undefined ? undefined : inNamespace(related[RELATED.services], ns).find((s) => s.metadata.name === serviceName);
  const slices = serviceName === undefined ? [] : inNamespace(related[RELATED.endpointSlices], ns).filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === serviceName);
  const podGroup = serviceName === undefined ? undefined : related[RELATED.pods];
  const pods = podGroup === undefined ? undefined : inNamespace(podGroup, ns);
  const isSelf = (o: DeliveredRoutedIP) =>
    o.metadata.uid !== undefined && parent.metadata.uid !== undefined ? o.metadata.uid === parent.metadata.uid : o.metadata.name === parent.metadata.name && (o.metadata.namespace ?? ns) === ns;
  const siblings = Object.values(related[RELATED.routedIPs] ?? {}).filter((o) => !isSelf(o)).map((o) => {
    const address = readRoutedIPSpec(o.spec).validParts.address;
    return { ...readStatusHint(o.status), uid: o.metadata.uid ?? `${o.metadata.namespace ?? ns}/${o.metadata.name}`, ...(address ? { specAddress: address } : {}) };
  });
  return {
    parent,
    ...(specProblem ? { specProblem } : {}),
    adopts: read.adopts,
    owner,
    generation: parent.metadata.generation ?? 0,
    previous: readStatusHint(parent.status),
    issuer,
    secrets: new Map(inNamespace(related[RELATED.secrets], issuerNamespace).map((s) => [s.metadata.name, s])),
    nodes: Object.values(related[RELATED.nodes] ?? {}),
    ...(service ? { service } : {}),
    slices,
    ...(pods ? { pods } : {}),
    siblings,
  };
}

/** True when `x` is a problem rather than valid settings. */
export const isProblem = (x: IssuerSettings | ConfigProblem): x is ConfigProblem => 'reason' in x && !('provider' in x);
