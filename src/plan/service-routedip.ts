/**
 * A Service asks for a routed IP (the Service DecoratorController). Pure: from the Service's
 * annotations and the RoutedIP attachment Metacontroller observed, the desired attachment and
 * the annotations written back on the Service.
 *
 * - The RoutedIP is named after the Service, `serviceRef` points at it, and it is marked
 *   (label `routedip.io/managed-by: service`, and the managed spec recorded in an annotation).
 * - The Service annotations are the source of truth for the fields they set. A hand edit of such
 *   a field on the RoutedIP is reverted, and said so in `routedip.io/last-conflict` on the
 *   Service; fields the annotations do not set (e.g. `failover`) may be edited on the RoutedIP
 *   and are kept (Metacontroller's InPlace update merges against what it last applied).
 * - `issuerRef` and `address` are immutable on a RoutedIP: a changed annotation is reported in
 *   `routedip.io/problem`, never sent (the API server would refuse the update on every sync).
 * - The address is written back as `routedip.io/address`. An address the RoutedIP allocated is
 *   also recorded in `routedip.io/allocated-address`, so the written-back value is never read
 *   as a request to adopt it (which would make a `Delete` reclaim policy keep it).
 * - external-dns (opt-in, `routedip.io/external-dns`): the address is also written as
 *   `<prefix>target`, which external-dns's Service source publishes for any Service type.
 */
import { isIPv4 } from 'node:net';
import type { StringUpdates } from '../schemas/decorator.js';
import type { LabelSelector } from '../schemas/kubernetes.js';
import { API_VERSION, type RoutedIPSpec } from '../schemas/routed-ip.js';
import { parseSelector } from './label-selector.js';

/** The annotations a Service is read from and written to. */
export const SERVICE_ANNOTATIONS = {
  issuer: 'routedip.io/issuer',
  issuerKind: 'routedip.io/issuer-kind',
  address: 'routedip.io/address',
  allocatedAddress: 'routedip.io/allocated-address',
  nodeSelector: 'routedip.io/node-selector',
  externalDns: 'routedip.io/external-dns',
  problem: 'routedip.io/problem',
  lastConflict: 'routedip.io/last-conflict',
} as const;

/** Label marking a RoutedIP as managed by the Service of the same name. */
export const MANAGED_BY_LABEL = 'routedip.io/managed-by';
/** Annotation on a managed RoutedIP: the spec fields the Service set, as canonical JSON. */
export const MANAGED_SPEC_ANNOTATION = 'routedip.io/managed-spec';

/** external-dns annotation prefixes: v0.22.0 and later default, and v0.21.x and earlier. */
export const EXTERNAL_DNS_PREFIXES = ['external-dns.kubernetes.io/', 'external-dns.alpha.kubernetes.io/'] as const;

/** Kinds `routedip.io/issuer-kind` may name. */
export const ISSUER_KINDS = ['RoutedIPIssuer', 'ClusterRoutedIPIssuer'] as const;

/** Seconds between checks while a deleted RoutedIP finalizes (its deletion also re-syncs). */
export const SERVICE_FINALIZE_RECHECK_SECONDS = 10;

/** The managed RoutedIP as observed (an attachment of the Service). */
export interface ObservedManagedRoutedIP {
  readonly spec?: RoutedIPSpec;
  readonly annotations?: Readonly<Record<string, string>>;
  /** `status.address`. */
  readonly address?: string;
}

/** Everything the decoration is computed from. */
export interface ServiceDecorationInput {
  readonly name: string;
  readonly namespace: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** Deleting, or the issuer annotation was removed: the RoutedIP goes. */
  readonly finalizing: boolean;
  readonly attachment?: ObservedManagedRoutedIP;
  /** A RoutedIP of the Service's name exists that this Service does not manage. */
  readonly foreign: boolean;
}

/** The fields the Service sets on its RoutedIP. */
type ManagedSpec = Pick<RoutedIPSpec, 'issuerRef' | 'serviceRef' | 'address' | 'nodeSelector'>;

/** A desired RoutedIP attachment. */
export interface ManagedRoutedIP {
  readonly apiVersion: string;
  readonly kind: 'RoutedIP';
  readonly metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  readonly spec: ManagedSpec;
}

/** The decorator's answer, minus the HTTP envelope. */
export interface ServiceDecoration {
  readonly attachments: ManagedRoutedIP[];
  readonly annotations: StringUpdates;
  readonly finalized?: boolean;
  readonly resyncAfterSeconds?: number;
}

/** Stable JSON: object keys sorted at every level, so equal specs give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const MANAGED_FIELDS = ['issuerRef', 'serviceRef', 'address', 'nodeSelector'] as const;
const pickManaged = (spec: RoutedIPSpec | undefined): Partial<ManagedSpec> =>
  Object.fromEntries(MANAGED_FIELDS.filter((f) => spec?.[f] !== undefined).map((f) => [f, spec?.[f]]));

/** The external-dns annotation prefix the opt-in names: `"true"` = the current default, or a prefix ending in `/`. */
export function externalDnsPrefix(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return EXTERNAL_DNS_PREFIXES[0];
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/$/.test(value) ? value : undefined;
}

/** What the annotations ask for, and what is wrong with them. */
function readAnnotations(input: ServiceDecorationInput) {
  const a = input.annotations;
  const problems: string[] = [];
  const issuer = a[SERVICE_ANNOTATIONS.issuer]?.trim() ?? '';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(issuer)) problems.push(`${SERVICE_ANNOTATIONS.issuer} must name an issuer, not ${JSON.stringify(issuer)}`);
  const kind = a[SERVICE_ANNOTATIONS.issuerKind];
  if (kind !== undefined && !(ISSUER_KINDS as readonly string[]).includes(kind)) problems.push(`${SERVICE_ANNOTATIONS.issuerKind} must be one of ${ISSUER_KINDS.join(', ')}, not ${JSON.stringify(kind)}`);
  const written = a[SERVICE_ANNOTATIONS.address];
  const address = written !== undefined && written !== a[SERVICE_ANNOTATIONS.allocatedAddress] ? written : undefined;
  if (address !== undefined && !isIPv4(address)) problems.push(`${SERVICE_ANNOTATIONS.address} must be an IPv4 address, not ${JSON.stringify(address)}`);
  let nodeSelector: LabelSelector | undefined;
  const selectorText = a[SERVICE_ANNOTATIONS.nodeSelector];
  if (selectorText !== undefined) {
    const parsed = parseSelector(selectorText);
    if ('error' in parsed) problems.push(`${SERVICE_ANNOTATIONS.nodeSelector}: ${parsed.error}`);
    else if (Object.keys(parsed.selector).length > 0) nodeSelector = parsed.selector;
  }
  const optIn = a[SERVICE_ANNOTATIONS.externalDns];
  const dnsPrefix = externalDnsPrefix(optIn);
  if (optIn !== undefined && optIn !== 'false' && dnsPrefix === undefined) problems.push(`${SERVICE_ANNOTATIONS.externalDns} must be "true", "false" or an annotation prefix ending in "/", not ${JSON.stringify(optIn)}`);
  return { issuer, kind, address, nodeSelector, dnsPrefix, problems };
}

/** external-dns targets to write or delete for `address` (undefined: the address is unknown). */
function externalDnsUpdates(annotations: Readonly<Record<string, string>>, prefix: string | undefined, address: string | undefined): StringUpdates {
  const out: StringUpdates = {};
  if (prefix !== undefined && address !== undefined) out[`${prefix}target`] = address;
  // A target this decorator wrote (it equals the address) goes when the opt-in does.
  const ours = address ?? annotations[SERVICE_ANNOTATIONS.address];
  for (const p of EXTERNAL_DNS_PREFIXES) {
    if (p !== prefix && ours !== undefined && annotations[`${p}target`] === ours) out[`${p}target`] = null;
  }
  return out;
}

/** The decoration of one Service. Pure. */
export function decorateService(input: ServiceDecorationInput): ServiceDecoration {
  const a = input.annotations;
  const observed = input.attachment;
  const seen = readAnnotations(input);

  if (input.finalizing) {
    if (observed) return { attachments: [], annotations: {}, finalized: false, resyncAfterSeconds: SERVICE_FINALIZE_RECHECK_SECONDS };
    // The RoutedIP is gone: take back what was written, leave what the user wrote.
    const allocated = a[SERVICE_ANNOTATIONS.allocatedAddress];
    const annotations: StringUpdates = {
      ...externalDnsUpdates(a, undefined, undefined),
      [SERVICE_ANNOTATIONS.allocatedAddress]: null,
      [SERVICE_ANNOTATIONS.problem]: null,
      ...(allocated !== undefined && a[SERVICE_ANNOTATIONS.address] === allocated ? { [SERVICE_ANNOTATIONS.address]: null } : {}),
    };
    return { attachments: [], annotations, finalized: true };
  }

  const problems = [...seen.problems];
  if (input.foreign && !observed) {
    problems.push(`RoutedIP ${input.namespace}/${input.name} exists and is not managed by this Service: rename the Service or the RoutedIP`);
    return { attachments: [], annotations: { [SERVICE_ANNOTATIONS.problem]: problems.join('; ') } };
  }

  const annotations: StringUpdates = {};
  let spec: ManagedSpec;
  if (observed?.spec) {
    // issuerRef and address are immutable: keep what the RoutedIP has, say so when asked otherwise.
    const current = observed.spec;
    const askedRef = { name: seen.issuer, kind: seen.kind ?? 'RoutedIPIssuer' };
    const currentRef = { name: current.issuerRef.name, kind: current.issuerRef.kind ?? 'RoutedIPIssuer' };
    if (seen.problems.length === 0 && canonicalJson(askedRef) !== canonicalJson(currentRef)) {
      problems.push(`the issuer annotations ask for ${askedRef.kind} ${askedRef.name} but the RoutedIP's issuerRef (${currentRef.kind} ${currentRef.name}) is immutable: remove ${SERVICE_ANNOTATIONS.issuer}, wait for the RoutedIP to go, and add it again to switch`);
    }
    if (seen.problems.length === 0 && seen.address !== current.address) {
      problems.push(`${SERVICE_ANNOTATIONS.address} asks for ${seen.address ?? 'a new address'} but RoutedIP spec.address ${current.address ?? '(allocated)'} is immutable`);
    }
    const recorded = parseRecorded(observed.annotations?.[MANAGED_SPEC_ANNOTATION]);
    spec = {
      issuerRef: current.issuerRef,
      serviceRef: { name: input.name },
      ...(current.address !== undefined ? { address: current.address } : {}),
      ...(seen.problems.some((p) => p.startsWith(SERVICE_ANNOTATIONS.nodeSelector))
        ? recorded?.nodeSelector !== undefined ? { nodeSelector: recorded.nodeSelector } : {}
        : seen.nodeSelector !== undefined ? { nodeSelector: seen.nodeSelector } : {}),
    };
    const edited = recorded === undefined ? [] : MANAGED_FIELDS.filter((f) => canonicalJson(pickManaged(current)[f]) !== canonicalJson(recorded[f]));
    if (edited.length > 0) {
      annotations[SERVICE_ANNOTATIONS.lastConflict] = `RoutedIP ${input.namespace}/${input.name}: ${edited.map((f) => `spec.${f}`).join(', ')} edited on the RoutedIP and reverted to what this Service's annotations say; edit the annotations instead`;
    }
  } else {
    if (seen.problems.length > 0) return { attachments: [], annotations: { [SERVICE_ANNOTATIONS.problem]: problems.join('; ') } };
    spec = {
      issuerRef: { name: seen.issuer, ...(seen.kind !== undefined ? { kind: seen.kind as (typeof ISSUER_KINDS)[number] } : {}) },
      serviceRef: { name: input.name },
      ...(seen.address !== undefined ? { address: seen.address } : {}),
      ...(seen.nodeSelector !== undefined ? { nodeSelector: seen.nodeSelector } : {}),
    };
  }

  const address = observed?.address;
  if (address !== undefined) {
    annotations[SERVICE_ANNOTATIONS.address] = address;
    annotations[SERVICE_ANNOTATIONS.allocatedAddress] = observed?.spec?.address === undefined ? address : null;
  }
  Object.assign(annotations, externalDnsUpdates(a, seen.dnsPrefix, address));
  annotations[SERVICE_ANNOTATIONS.problem] = problems.length > 0 ? problems.join('; ') : null;

  const attachment: ManagedRoutedIP = {
    apiVersion: API_VERSION,
    kind: 'RoutedIP',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { [MANAGED_BY_LABEL]: 'service' },
      annotations: { [MANAGED_SPEC_ANNOTATION]: canonicalJson(spec) },
    },
    spec,
  };
  return { attachments: [attachment], annotations };
}

function parseRecorded(text: string | undefined): Partial<ManagedSpec> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Partial<ManagedSpec>) : undefined;
  } catch {
    return undefined;
  }
}
