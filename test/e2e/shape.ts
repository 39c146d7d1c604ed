/**
 * What a scenario checks a stored object against, derived from the TypeBox schemas in src/schemas
 * (the CRDs are generated from them), never from a hand-written field list: the property paths a
 * schema declares, which of them an installed CRD would prune, and where a stored status breaks
 * its schema. Also the firewall ports of a RoutedIP, compared without regard to key order (the
 * API server returns objects with their keys sorted, as Go's encoding/json writes maps).
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { portKey } from '../../src/plan/ports.js';
import type { FirewallPort } from '../../src/schemas/routed-ip.js';
import type { Json } from '../manifests/k8s-schema.js';

/**
 * Every property path `schema` declares, e.g. `firewall.addedPorts[].sources`, through nested
 * objects, arrays and unions. Works on TypeBox schemas and on CRD structural schemas alike.
 */
export function propertyPaths(schema: Json, prefix = ''): string[] {
  const out = new Set<string>();
  const walk = (s: Json, at: string) => {
    if (!s || typeof s !== 'object') return;
    if (s.items) walk(s.items, `${at}[]`);
    for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) walk(alt, at);
    for (const [key, sub] of Object.entries((s.properties ?? {}) as Record<string, Json>)) {
      const path = at ? `${at}.${key}` : key;
      out.add(path);
      walk(sub, path);
    }
  };
  walk(schema, prefix);
  return [...out].sort();
}

/** Paths under which a structural schema keeps unknown fields (nothing below them is pruned). */
function preserved(schema: Json): string[] {
  const out: string[] = [];
  const walk = (s: Json, at: string) => {
    if (!s || typeof s !== 'object') return;
    if (s['x-kubernetes-preserve-unknown-fields'] === true) out.push(at);
    if (s.items) walk(s.items, `${at}[]`);
    for (const [key, sub] of Object.entries((s.properties ?? {}) as Record<string, Json>)) walk(sub, at ? `${at}.${key}` : key);
  };
  walk(schema, '');
  return out;
}

/** The property paths of `wanted` that `crd` (an installed CRD's schema) would prune. */
export function prunedPaths(wanted: TSchema | Json, crd: Json): string[] {
  const declared = new Set(propertyPaths(crd));
  const kept = preserved(crd);
  return propertyPaths(wanted as Json).filter((p) => !declared.has(p) && !kept.some((k) => k === '' || p.startsWith(`${k}.`) || p.startsWith(`${k}[]`)));
}

/** Where `value` breaks `schema`, as `path: message` lines (empty when it conforms). */
export function schemaErrors(schema: TSchema, value: unknown): string[] {
  return [...Value.Errors(schema, value)].map((e) => `${e.path || '/'}: ${e.message}`);
}

/** The `status` schema of version `version` of an installed CRD (as the API server returns it). */
export function crdStatusSchema(crd: Json, version = 'v1alpha1'): Json {
  const v = (crd.spec.versions as Json[]).find((x) => x.name === version);
  return v?.schema?.openAPIV3Schema?.properties?.status ?? {};
}

/** `tcp/443`-style keys of a list of ports, sorted: equal lists compare equal whatever the key order. */
export const portKeys = (ports: readonly FirewallPort[] | undefined): string[] => (ports ?? []).map(portKey).sort();

/** True when the RoutedIP's `status.firewall.ports` are exactly `ports` (in any order, any key order). */
export const hasFirewallPorts = (rip: Json, ports: readonly FirewallPort[]): boolean =>
  JSON.stringify(portKeys(rip?.status?.firewall?.ports)) === JSON.stringify(portKeys(ports));
