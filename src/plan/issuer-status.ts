/**
 * The issuer controller's plan (CompositeController `routedip-issuers`), pure: which RoutedIPs
 * use an issuer, the issuer's status, and whether a deleted issuer — or a deleted credentials
 * Secret — may go. An issuer or Secret is held while any RoutedIP that needs it still exists,
 * deleting ones included: their finalize needs the issuer and its credentials to clean the cloud.
 */
import { issuerRefOf, type DeliveredRoutedIP } from '../schemas/delivered.js';

/** Seconds between re-checks while a deleted issuer or Secret waits for its RoutedIPs (their deletion also re-syncs). */
export const HOLD_RECHECK_SECONDS = 30;

/** Seconds between credential checks of a usable issuer (the check is cached as long). */
export const ISSUER_CHECK_SECONDS = 300;

/**
 * True when `routedIP` refers to the namespaced issuer `namespace/name`. Read from a valid
 * issuerRef only: a RoutedIP whose issuerRef is invalid can use no issuer.
 */
export function usesIssuer(routedIP: DeliveredRoutedIP, namespace: string, name: string): boolean {
  const ref = issuerRefOf(routedIP.spec);
  return (routedIP.metadata.namespace ?? namespace) === namespace && ref?.name === name && ref.kind === 'RoutedIPIssuer';
}

/** `namespace/name` of the RoutedIPs using the issuer, sorted. */
export function routedIPsOf(routedIPs: readonly DeliveredRoutedIP[], namespace: string, name: string): string[] {
  return routedIPs.filter((r) => usesIssuer(r, namespace, name)).map((r) => `${r.metadata.namespace ?? namespace}/${r.metadata.name}`).sort();
}

/** True when `routedIP` (of any namespace) refers to the ClusterRoutedIPIssuer `name`, by a valid issuerRef. */
export function usesClusterIssuer(routedIP: DeliveredRoutedIP, name: string): boolean {
  const ref = issuerRefOf(routedIP.spec);
  return ref?.name === name && ref.kind === 'ClusterRoutedIPIssuer';
}

/** `namespace/name` of the RoutedIPs, of every namespace, using the ClusterRoutedIPIssuer `name`, sorted. */
export function routedIPsOfClusterIssuer(routedIPs: readonly DeliveredRoutedIP[], name: string): string[] {
  return routedIPs.filter((r) => usesClusterIssuer(r, name)).map((r) => `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`).sort();
}

/**
 * Names of the Secrets an issuer spec refers to (any `*SecretRef.name` of its provider block).
 * Read leniently from any spec, valid or not: a Secret is held while anything may need it.
 */
export function secretsOf(spec: unknown): string[] {
  if (spec === null || typeof spec !== 'object') return [];
  const names = new Set<string>();
  for (const block of Object.values(spec ?? {})) {
    if (block === null || typeof block !== 'object' || Array.isArray(block)) continue;
    for (const [key, ref] of Object.entries(block as Record<string, unknown>)) {
      const name = key.endsWith('SecretRef') && ref !== null && typeof ref === 'object' ? (ref as { name?: unknown }).name : undefined;
      if (typeof name === 'string' && name !== '') names.add(name);
    }
  }
  return [...names].sort();
}

/** An issuer as the Secret hold needs it. */
export interface IssuerRef {
  readonly namespace: string;
  readonly name: string;
  readonly spec?: unknown;
}

/**
 * The RoutedIPs that need Secret `namespace/secret`: those using an issuer of that namespace
 * whose spec names the Secret, and — for a Secret of the operator's namespace, where
 * ClusterRoutedIPIssuers read theirs — those of any namespace using a ClusterRoutedIPIssuer
 * whose spec names it. Sorted `namespace/name`.
 */
export function routedIPsNeedingSecret(
  namespace: string,
  secret: string,
  issuers: readonly IssuerRef[],
  routedIPs: readonly DeliveredRoutedIP[],
  cluster: { readonly operatorNamespace: string; readonly issuers: readonly { readonly name: string; readonly spec?: unknown }[] } = { operatorNamespace: '', issuers: [] },
): string[] {
  const users = issuers.filter((i) => i.namespace === namespace && secretsOf(i.spec).includes(secret));
  const clusterUsers = namespace === cluster.operatorNamespace ? cluster.issuers.filter((i) => secretsOf(i.spec).includes(secret)) : [];
  return [
    ...new Set([...users.flatMap((i) => routedIPsOf(routedIPs, i.namespace, i.name)), ...clusterUsers.flatMap((i) => routedIPsOfClusterIssuer(routedIPs, i.name))]),
  ].sort();
}

/** The message of a hold: who still needs the object. */
export function holdMessage(what: string, users: readonly string[]): string {
  const shown = users.slice(0, 5).join(', ');
  return `${what} is kept until ${users.length} RoutedIP${users.length === 1 ? '' : 's'} using it ${users.length === 1 ? 'is' : 'are'} gone: ${shown}${users.length > 5 ? ', …' : ''}`;
}
