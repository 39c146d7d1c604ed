/**
 * Least privilege for issuers (PRODUCT.md invariant 11, cert-manager's model): what an issuer may
 * make the operator do with its own network position and cloud identity. Checked before an issuer
 * is built, so a refused issuer never gets credentials, a client or a request.
 *
 * - An endpoint override (`spec.digitalocean.endpoint`, `spec.aws.endpoint`) is used only when its
 *   host is on the operator's allowlist: otherwise anyone allowed to create an issuer could send
 *   the token or SigV4-signed requests to a host of their choice and read the answer in status.
 * - Ambient credentials (an `aws` block without `credentialsSecretRef`: IRSA, the instance role)
 *   are the operator's own identity. A ClusterRoutedIPIssuer may use them (only cluster admins
 *   create those, like cert-manager's ClusterIssuer); a namespaced RoutedIPIssuer only in the
 *   namespaces the operator names.
 */
import type { ProviderName } from '../issuers/issuer.js';
import type { IssuerKind, RoutedIPIssuerSpec } from '../schemas/routed-ip.js';
import type { ConfigProblem } from './context.js';

/** What the operator's configuration allows issuers (env: see src/config.ts). */
export interface IssuerPolicy {
  /** Hosts an endpoint override may name (lower case; IPv6 without brackets). Empty = no overrides. */
  readonly endpointHosts: ReadonlySet<string>;
  /** Namespaces whose RoutedIPIssuers may use ambient credentials; `'*'` = every namespace. */
  readonly ambientNamespaces: ReadonlySet<string> | '*';
  /** Namespace of the operator: ClusterRoutedIPIssuers read their Secrets there. */
  readonly operatorNamespace: string;
}

/** The default: no endpoint override anywhere, ambient credentials only for ClusterRoutedIPIssuers. */
export const DEFAULT_POLICY: IssuerPolicy = { endpointHosts: new Set(), ambientNamespaces: new Set(), operatorNamespace: 'routedip-system' };

/** Loopback hosts: what tests and the demo allow, to reach their local fake clouds. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '::1'];

/** The host of an endpoint URL as the allowlist compares it, or undefined when it is no http(s) URL. */
export function endpointHost(endpoint: string): string | undefined {
  try {
    const url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  } catch {
    return undefined;
  }
}

/** The issuer's description in messages: `RoutedIPIssuer ns/name` or `ClusterRoutedIPIssuer name`. */
export const describeIssuer = (kind: IssuerKind, namespace: string, name: string): string =>
  kind === 'ClusterRoutedIPIssuer' ? `ClusterRoutedIPIssuer ${name}` : `RoutedIPIssuer ${namespace}/${name}`;

/** The issuer facts the policy judges. */
export interface PolicySubject {
  readonly kind: IssuerKind;
  readonly namespace: string;
  readonly name: string;
  readonly provider: ProviderName;
  readonly spec: RoutedIPIssuerSpec;
}

/** Why a provider has no factory in this service. */
export const providerUnavailable = (provider: string): string =>
  provider === 'memory' ? 'the simulated memory cloud is switched off in this operator (MEMORY_PROVIDER=disabled)' : `provider ${provider} is not available in this service`;

/**
 * The endpoint override of the issuer's provider block, whichever provider it is (every cloud
 * provider block may carry `endpoint`; a provider added later is covered without a change here).
 */
function endpointOf(issuer: PolicySubject): unknown {
  const block = (issuer.spec as Record<string, unknown>)[issuer.provider];
  return block !== null && typeof block === 'object' && Object.hasOwn(block, 'endpoint') ? (block as { endpoint?: unknown }).endpoint : undefined;
}

/** Why `issuer` may not be used under `policy`, or undefined when it may. */
export function policyProblem(issuer: PolicySubject, policy: IssuerPolicy): ConfigProblem | undefined {
  const who = describeIssuer(issuer.kind, issuer.namespace, issuer.name);
  const endpoint = endpointOf(issuer);
  if (endpoint !== undefined) {
    const host = typeof endpoint === 'string' ? endpointHost(endpoint) : undefined;
    if (host === undefined || !policy.endpointHosts.has(host)) {
      return {
        reason: 'EndpointNotAllowed',
        message:
          `${who}: spec.${issuer.provider}.endpoint ${host === undefined ? 'is not an http(s) URL' : `host ${host} is not allowed`}: ` +
          `the operator sends credentials only to the provider's own API or to hosts listed in its ISSUER_ENDPOINT_HOSTS; ` +
          `remove the endpoint, or ask the operator's administrator to allow the host`,
      };
    }
  }
  const ambient = issuer.provider === 'aws' && issuer.spec.aws?.credentialsSecretRef === undefined;
  if (ambient && issuer.kind === 'RoutedIPIssuer') {
    const allowed = policy.ambientNamespaces === '*' || policy.ambientNamespaces.has(issuer.namespace);
    if (!allowed) {
      return {
        reason: 'AmbientCredentialsNotAllowed',
        message:
          `${who} has no spec.aws.credentialsSecretRef, and namespaced issuers may not use the operator's own AWS identity: ` +
          `set credentialsSecretRef to a labelled Secret, use a ClusterRoutedIPIssuer, or have the operator's administrator ` +
          `add namespace ${issuer.namespace} to ISSUER_AMBIENT_CREDENTIALS_NAMESPACES`,
      };
    }
  }
  return undefined;
}
