/**
 * What a scenario uses to act on the e2e cluster as a user would: the Kubernetes REST API with
 * the harness's bearer token (server-side apply, status-subresource patches, deletes), `kubectl`
 * for what users read (printer columns), the service's /metrics, and polling with a deadline.
 * A scenario file run outside `npm run e2e` has no cluster: `connect` then skips the file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { Test } from 'tap';
import { insecure, type ClusterInfo } from './harness/cluster.js';
import type { Json } from '../manifests/k8s-schema.js';

export type { Json };

const RESOURCES: Record<string, { prefix: string; plural: string; namespaced: boolean }> = {
  Namespace: { prefix: '/api/v1', plural: 'namespaces', namespaced: false },
  Node: { prefix: '/api/v1', plural: 'nodes', namespaced: false },
  Service: { prefix: '/api/v1', plural: 'services', namespaced: true },
  Secret: { prefix: '/api/v1', plural: 'secrets', namespaced: true },
  EndpointSlice: { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  RoutedIP: { prefix: '/apis/routedip.io/v1alpha1', plural: 'routedips', namespaced: true },
  RoutedIPIssuer: { prefix: '/apis/routedip.io/v1alpha1', plural: 'routedipissuers', namespaced: true },
  ClusterRoutedIPIssuer: { prefix: '/apis/routedip.io/v1alpha1', plural: 'clusterroutedipissuers', namespaced: false },
  CompositeController: { prefix: '/apis/metacontroller.k8s.io/v1alpha1', plural: 'compositecontrollers', namespaced: false },
  DecoratorController: { prefix: '/apis/metacontroller.k8s.io/v1alpha1', plural: 'decoratorcontrollers', namespaced: false },
};

/** An API answer: status code and parsed body. */
export interface Answer {
  readonly code: number;
  readonly body: Json;
}

/** The cluster as a scenario sees it. */
export class Kube {
  constructor(readonly info: ClusterInfo) {}

  /** The API path of `kind` (in `namespace`), optionally of one object and a subresource. */
  path(kind: string, namespace: string | undefined, name?: string, sub?: string): string {
    const r = RESOURCES[kind];
    if (!r) throw new Error(`kube.ts knows no resource for kind ${kind}`);
    const ns = r.namespaced ? `/namespaces/${namespace ?? 'default'}` : '';
    return `${r.prefix}${ns}/${r.plural}${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
  }

  /** One REST call; never throws on an HTTP error status. */
  async call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
    const res = await request(`${this.info.apiServer}${path}`, {
      method,
      dispatcher: insecure,
      headers: { authorization: `Bearer ${this.info.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    return { code: res.statusCode, body: text ? JSON.parse(text) : undefined };
  }

  private static ok(what: string, a: Answer): Json {
    if (a.code >= 300) throw new Error(`${what}: HTTP ${a.code} ${a.body?.message ?? JSON.stringify(a.body)}`);
    return a.body;
  }

  /** Server-side apply of `obj` (create or update), as `kubectl apply --server-side` does. */
  async apply(obj: Json): Promise<Json> {
    const p = `${this.path(obj.kind, obj.metadata.namespace, obj.metadata.name)}?fieldManager=e2e&force=true`;
    return Kube.ok(`apply ${obj.kind} ${obj.metadata.name}`, await this.call('PATCH', p, obj, 'application/apply-patch+yaml'));
  }

  /** POSTs `obj`; the answer as is (for objects the API server must reject). */
  create(obj: Json): Promise<Answer> {
    return this.call('POST', this.path(obj.kind, obj.metadata.namespace), obj);
  }

  /** The object, or undefined when it does not exist. */
  async get(kind: string, namespace: string | undefined, name: string): Promise<Json | undefined> {
    const a = await this.call('GET', this.path(kind, namespace, name));
    return a.code === 404 ? undefined : Kube.ok(`get ${kind} ${name}`, a);
  }

  /** A JSON merge patch of the object (`sub` = 'status' for the status subresource). */
  async patch(kind: string, namespace: string | undefined, name: string, patch: Json, sub?: string): Promise<Json> {
    return Kube.ok(`patch ${kind} ${name}`, await this.call('PATCH', this.path(kind, namespace, name, sub), patch, 'application/merge-patch+json'));
  }

  /** Deletes the object (a missing object is fine). */
  async delete(kind: string, namespace: string | undefined, name: string): Promise<void> {
    const a = await this.call('DELETE', this.path(kind, namespace, name));
    if (a.code !== 404) Kube.ok(`delete ${kind} ${name}`, a);
  }

  /** `kubectl <args>` against the cluster (what a user would type). */
  kubectl(...args: string[]): string {
    return execFileSync('kubectl', ['--kubeconfig', this.info.kubeconfig, ...args], { encoding: 'utf8' });
  }

  /** Hook calls the service has answered so far, by hook (`sync`, `finalize`, `customize`). */
  async hookCalls(): Promise<Record<string, number>> {
    const res = await request(`${this.info.serviceUrl}/metrics`);
    const text = await res.body.text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^routedip_hook_requests_total\{([^}]*)\} (\d+(?:\.\d+)?)$/gm)) {
      const hook = /hook="([^"]+)"/.exec(m[1] ?? '')?.[1] ?? '?';
      out[hook] = (out[hook] ?? 0) + Number(m[2]);
    }
    return out;
  }
}

/** Polls `probe` until it returns a value (not undefined); fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The cluster of this `npm run e2e` run; skips the whole file when there is none. */
export function connect(t: Test): Kube | undefined {
  const file = process.env.ROUTEDIP_E2E_CLUSTER;
  if (!file) {
    t.plan(0, 'no e2e cluster: run the scenarios with `npm run e2e`');
    return undefined;
  }
  return new Kube(JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo);
}
