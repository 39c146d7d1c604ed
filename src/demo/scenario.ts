/**
 * The demo cluster: three nodes running an ingress controller behind a ClusterIP Service, an
 * issuer, and no RoutedIP yet: annotating the Service asks for one.
 */
import type { Node } from '../schemas/kubernetes.js';
import type { RoutedIPIssuerSpec } from '../schemas/routed-ip.js';
import type { Secret } from '../schemas/kubernetes.js';
import type { DemoCluster } from './metacontroller.js';

const NS = 'ingress';
export const DEMO_NODES = ['node-a', 'node-b', 'node-c'];
/** The demo's RoutedIPIssuer; the memory issuer keeps its cloud account under `namespace/name`. */
export const DEMO_ISSUER = { namespace: NS, name: 'edge' } as const;

/** Builds the cluster; `node(name)` gives each node's providerID and labels for the cloud in use. */
export function demoCluster(
  issuerName: string,
  provider: Pick<RoutedIPIssuerSpec, 'memory' | 'digitalocean' | 'aws' | 'hetzner'>,
  node: (name: string) => { name: string; providerID?: string; labels?: Record<string, string> },
  secrets: Secret[] = [],
): DemoCluster {
  const nodes: Node[] = DEMO_NODES.map((n) => {
    const spec = node(n);
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: spec.name, labels: { 'kubernetes.io/hostname': spec.name, ...spec.labels } },
      spec: spec.providerID ? { providerID: spec.providerID } : {},
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
  });
  const cluster: DemoCluster = {
    issuer: {
      apiVersion: 'routedip.io/v1alpha1',
      kind: 'RoutedIPIssuer',
      metadata: { name: issuerName, namespace: NS, uid: '6f1c2a9e-demo-4b7e-9d2f-issuer000001', generation: 1 },
      spec: { routedIPReclaimPolicy: 'Delete', routedIPFirewallName: 'ingress-public', firewallSourceRanges: ['0.0.0.0/0', '::/0'], ...provider },
    },
    nodes,
    service: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ingress-nginx', namespace: NS, uid: '6f1c2a9e-demo-4b7e-9d2f-service00001' }, spec: { type: 'ClusterIP', ports: [] } },
    slices: [],
    secrets,
  };
  setPorts(cluster, [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }]);
  return cluster;
}

/** Sets the Service's ports and its EndpointSlice (one ready endpoint per node). */
export function setPorts(cluster: DemoCluster, ports: Array<{ port: number; protocol: string }>): void {
  cluster.service = { ...cluster.service, spec: { type: 'ClusterIP', ports } };
  cluster.slices = [
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'ingress-nginx-abcde', namespace: NS, labels: { 'kubernetes.io/service-name': 'ingress-nginx' } },
      addressType: 'IPv4',
      endpoints: cluster.nodes.map((n, i) => ({ addresses: [`10.244.${i}.10`], nodeName: n.metadata.name, conditions: { ready: true, serving: true, terminating: false } })),
      ports,
    },
  ];
}

/** Flips a node's Ready condition. */
export function setReady(cluster: DemoCluster, name: string, ready: boolean): void {
  cluster.nodes = cluster.nodes.map((n) => (n.metadata.name === name ? { ...n, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } } : n));
}
