/**
 * A tiny stand-in for Metacontroller used by the demo: it keeps the objects of one namespace,
 * builds v2 hook requests from them (the RoutedIP CompositeController's and its siblings'),
 * POSTs them to the real service over HTTP (undici), writes the returned status back, and — like
 * Metacontroller — syncs again while the status changes or a `resyncAfterSeconds` is pending.
 */
import { request } from 'undici';
import { RELATED, type SyncRequest, type SyncResponse } from '../schemas/metacontroller.js';
import type { EndpointSlice, Node, Secret, Service } from '../schemas/kubernetes.js';
import type { RoutedIPIssuerObject, RoutedIPObject } from '../schemas/routed-ip.js';
import type { StringUpdates } from '../schemas/decorator.js';

/** The cluster objects the demo controls. */
export interface DemoCluster {
  /** The RoutedIP, once the Service decorator asked for it (and until its finalize let it go). */
  routedIP?: RoutedIPObject;
  issuer: RoutedIPIssuerObject;
  nodes: Node[];
  service: Service;
  slices: EndpointSlice[];
  secrets: Secret[];
}

const key = (o: { metadata: { name: string; namespace?: string } }) => `${o.metadata.namespace}/${o.metadata.name}`;

/** The RoutedIPs of the cluster, keyed as v2 relates them. */
const routedIPs = (cluster: DemoCluster) => (cluster.routedIP ? { [key(cluster.routedIP)]: cluster.routedIP } : {});

/** Builds the request Metacontroller would send for the RoutedIP of `cluster`. */
export function hookRequest(cluster: DemoCluster & { routedIP: RoutedIPObject }, finalizing: boolean): SyncRequest {
  return {
    controller: { apiVersion: 'metacontroller.k8s.io/v1alpha1', kind: 'CompositeController', metadata: { name: 'routedip' } },
    parent: cluster.routedIP,
    children: {},
    related: {
      [RELATED.issuers]: { [key(cluster.issuer)]: cluster.issuer },
      [RELATED.nodes]: Object.fromEntries(cluster.nodes.map((n) => [n.metadata.name, n])),
      [RELATED.services]: { [key(cluster.service)]: cluster.service },
      [RELATED.endpointSlices]: Object.fromEntries(cluster.slices.map((s) => [key(s), s])),
      [RELATED.secrets]: Object.fromEntries(cluster.secrets.map((s) => [key(s), s])),
      [RELATED.routedIPs]: routedIPs(cluster),
    },
    finalizing,
  };
}

/**
 * The requests of the sibling controllers (metacontroller/), as Metacontroller builds them from
 * the same objects: the Service and Node DecoratorControllers, the issuer CompositeController
 * and the Secret DecoratorController. `path` is the hook's route.
 */
export const siblingRequests = {
  service: (cluster: DemoCluster, finalizing: boolean) => ({
    path: finalizing ? '/service/finalize' : '/service/sync',
    body: { object: cluster.service, attachments: { [RELATED.routedIPs]: routedIPs(cluster) }, related: { [RELATED.routedIPs]: routedIPs(cluster) }, finalizing },
  }),
  node: (cluster: DemoCluster, node: Node) => ({ path: '/node/sync', body: { object: node, attachments: {}, related: { [RELATED.routedIPs]: routedIPs(cluster) } } }),
  issuer: (cluster: DemoCluster, finalizing: boolean) => ({
    path: finalizing ? '/issuer/finalize' : '/issuer/sync',
    body: { parent: cluster.issuer, children: {}, related: { [RELATED.routedIPs]: routedIPs(cluster), [RELATED.secrets]: Object.fromEntries(cluster.secrets.map((s) => [key(s), s])) }, finalizing },
  }),
  secret: (cluster: DemoCluster, secret: Secret) => ({
    path: '/secret/finalize',
    body: { object: secret, attachments: {}, related: { [RELATED.issuers]: { [key(cluster.issuer)]: cluster.issuer }, [RELATED.routedIPs]: routedIPs(cluster) }, finalizing: true },
  }),
};

/** POSTs one sibling hook call; the answer as JSON (undefined unless 200). */
export async function callSibling<T>(baseUrl: string, call: { path: string; body: unknown }, token?: string): Promise<T | undefined> {
  const res = await request(`${baseUrl}${call.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(call.body),
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    return undefined;
  }
  return (await res.body.json()) as T;
}

/** One hook round trip as seen on the wire. */
export interface HookRound {
  readonly statusCode: number;
  readonly response?: SyncResponse;
  readonly retryAfter?: string;
}

/** POSTs one hook call to `baseUrl` and writes the status back into `cluster`. */
export async function callHook(baseUrl: string, cluster: DemoCluster & { routedIP: RoutedIPObject }, finalizing: boolean, token?: string): Promise<HookRound> {
  const res = await request(`${baseUrl}/${finalizing ? 'finalize' : 'sync'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(hookRequest(cluster, finalizing)),
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    const retryAfter = res.headers['retry-after'];
    return { statusCode: res.statusCode, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
  }
  const response = (await res.body.json()) as SyncResponse;
  cluster.routedIP = { ...cluster.routedIP, status: response.status };
  return { statusCode: 200, response };
}

/**
 * Applies a decorator's label or annotation updates the way Metacontroller does
 * (`updateStringMap`): a string sets, `null` deletes, absent keys stay. Returns the new map and
 * whether anything changed — only then does Metacontroller write the object.
 */
export function applyStringUpdates(current: Readonly<Record<string, string>> | undefined, updates: StringUpdates): { result: Record<string, string>; changed: boolean } {
  const result: Record<string, string> = { ...(current ?? {}) };
  let changed = false;
  for (const [key, value] of Object.entries(updates)) {
    if (value === null) {
      if (Object.hasOwn(result, key)) {
        delete result[key];
        changed = true;
      }
    } else if (result[key] !== value) {
      result[key] = value;
      changed = true;
    }
  }
  return { result, changed };
}
