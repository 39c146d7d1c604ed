/**
 * The Kubernetes objects the scenarios apply, written the way a user's manifests would be.
 * Nodes are cluster-wide and every scenario file shares the cluster, so each scenario labels
 * its nodes `e2e.routedip.io/scenario: <ns>` and selects only those in its RoutedIPs.
 */
import type { Json } from './kube.js';

/** The label that keeps one scenario's nodes apart from the others'. */
export const SCENARIO_LABEL = 'e2e.routedip.io/scenario';

export const namespace = (name: string): Json => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

/** A Node of scenario `ns` (cluster-scoped; its status is set separately: there is no kubelet). */
export const node = (ns: string, name: string, providerID?: string, labels: Record<string, string> = {}): Json => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { [SCENARIO_LABEL]: ns, 'kubernetes.io/hostname': name, ...labels } },
  spec: providerID ? { providerID } : {},
});

/** The status a kubelet would report, reduced to the Ready condition. */
export const nodeStatus = (ready: boolean): Json => ({
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady', message: 'set by the e2e scenario', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }] },
});

/** A port of the ingress Service. */
export interface Port {
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

/** The ingress controller's ClusterIP Service (with a selector, as the README asks). */
export const service = (ns: string, name: string, ports: readonly Port[]): Json => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec: { type: 'ClusterIP', selector: { app: name }, ports: ports.map((p) => ({ name: `${p.protocol.toLowerCase()}-${p.port}`, port: p.port, protocol: p.protocol })) },
});

/**
 * The Service's EndpointSlice, written by the scenario because there is no endpoint-slice
 * controller: one endpoint per node, `ready` as given.
 */
export const endpointSlice = (ns: string, serviceName: string, ports: readonly Port[], endpoints: ReadonlyArray<{ node: string; ready: boolean }>): Json => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${serviceName}-e2e`, namespace: ns, labels: { 'kubernetes.io/service-name': serviceName } },
  addressType: 'IPv4',
  endpoints: endpoints.map((e, i) => ({ addresses: [`10.244.${i}.10`], nodeName: e.node, conditions: { ready: e.ready, serving: e.ready, terminating: false } })),
  ports: ports.map((p) => ({ name: `${p.protocol.toLowerCase()}-${p.port}`, port: p.port, protocol: p.protocol })),
});

/** A RoutedIPIssuer with one provider block. */
export const issuer = (ns: string, name: string, spec: Json): Json => ({
  apiVersion: 'routedip.io/v1alpha1',
  kind: 'RoutedIPIssuer',
  metadata: { name, namespace: ns },
  spec,
});

/** A RoutedIP restricted to the scenario's nodes. */
export const routedIP = (ns: string, name: string, spec: Json): Json => ({
  apiVersion: 'routedip.io/v1alpha1',
  kind: 'RoutedIP',
  metadata: { name, namespace: ns },
  spec: { nodeSelector: { matchLabels: { [SCENARIO_LABEL]: ns } }, ...spec },
});

/** A credentials Secret the operator may read (labelled `routedip.io/issuer`). */
export const secret = (ns: string, name: string, data: Record<string, string>, labelled = true): Json => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns, ...(labelled ? { labels: { 'routedip.io/issuer': 'e2e' } } : {}) },
  stringData: data,
});

/** The status of condition `type` of a RoutedIP (undefined when absent). */
export const condition = (obj: Json, type: string): { status: string; reason: string; message: string } | undefined =>
  (obj?.status?.conditions as Json[] | undefined)?.find((c) => c.type === type);

