/**
 * `npx tsx test/bench/payload.ts`: how large Metacontroller's hook requests get, to size the body
 * limit (issue 7 item 6). Builds Nodes shaped like a managed cluster's (EKS labels, annotations,
 * conditions, addresses, nodeInfo, `images` container images in status; the kubelet reports up
 * to 50; no managedFields) and prints the /sync request size for 1 to 5,000 of them.
 */
import { node, syncRequest, routedIP, issuer } from '../fixtures/k8s.js';
import type { Node } from '../../src/schemas/kubernetes.js';

/** A Node with the fields a real one carries; `i` makes names and addresses distinct. */
export function realisticNode(i: number, images = 12): Node {
  const name = `ip-10-${(i >> 8) & 255}-${i & 255}-17.eu-west-1.compute.internal`;
  const base = node(name) as Node & Record<string, unknown>;
  const at = '2026-11-20T08:14:03Z';
  return {
    ...base,
    metadata: {
      ...base.metadata,
      uid: `6f1c2a8e-0d3b-4c55-9a1e-${String(i).padStart(12, '0')}`,
      resourceVersion: String(183_000_000 + i),
      labels: {
        'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/instance-type': 'm6i.large', 'beta.kubernetes.io/os': 'linux',
        'eks.amazonaws.com/capacityType': 'ON_DEMAND', 'eks.amazonaws.com/nodegroup': 'ingress-pool-2026',
        'eks.amazonaws.com/nodegroup-image': 'ami-0a1b2c3d4e5f67890', 'failure-domain.beta.kubernetes.io/region': 'eu-west-1',
        'failure-domain.beta.kubernetes.io/zone': 'eu-west-1a', 'k8s.io/cloud-provider-aws': '3f2d1c0b9a8e7d6c5b4a39281706f5e4',
        'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'm6i.large', 'topology.kubernetes.io/region': 'eu-west-1', 'topology.kubernetes.io/zone': 'eu-west-1a',
        pool: 'ingress',
      },
      annotations: {
        'alpha.kubernetes.io/provided-node-ip': `10.0.${i & 255}.17`,
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'csi.volume.kubernetes.io/nodeid': `{"ebs.csi.aws.com":"i-0${String(i).padStart(16, '0')}"}`,
      },
    },
    spec: { providerID: `aws:///eu-west-1a/i-0${String(i).padStart(16, '0')}`, podCIDR: `10.244.${i & 255}.0/24` },
    status: {
      capacity: { cpu: '2', 'ephemeral-storage': '83873772Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '7910632Ki', pods: '29' },
      allocatable: { cpu: '1930m', 'ephemeral-storage': '76224326324', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '7220456Ki', pods: '29' },
      conditions: [
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
        ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
      ].map(([type, status, reason, message]) => ({ type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at })),
      addresses: [
        { type: 'InternalIP', address: `10.0.${i & 255}.17` },
        { type: 'InternalDNS', address: name },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: 'ec2d8f0c1a2b3c4d5e6f708192a3b4c5', systemUUID: 'ec2d8f0c-1a2b-3c4d-5e6f-708192a3b4c5', bootID: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
        kernelVersion: '6.1.112-122.189.amzn2023.x86_64', osImage: 'Amazon Linux 2023.6.20241010', containerRuntimeVersion: 'containerd://1.7.22',
        kubeletVersion: 'v1.31.0-eks-a737599', kubeProxyVersion: 'v1.31.0-eks-a737599', operatingSystem: 'linux', architecture: 'amd64',
      },
      images: Array.from({ length: images }, (_, k) => ({
        names: [`602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/image-${k}@sha256:${'0123456789abcdef'.repeat(4)}`, `602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/image-${k}:v1.${k}.0`],
        sizeBytes: 30_000_000 + k,
      })),
    },
  } as Node;
}

/** The /sync request with `n` realistic Nodes. */
export const requestWithNodes = (n: number, images = 12) =>
  syncRequest({ parent: routedIP('public'), issuers: [issuer('cloud', { memory: {} })], nodes: Array.from({ length: n }, (_, i) => realisticNode(i, images)) });

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  for (const images of [0, 12, 50]) {
    for (const n of [1, 1000, 5000]) {
      const bytes = Buffer.byteLength(JSON.stringify(requestWithNodes(n, images)));
      console.log(`/sync with ${String(n).padStart(5)} Nodes of ${String(images).padStart(2)} images: ${(bytes / 1024 / 1024).toFixed(2).padStart(6)} MiB (${Math.round(bytes / n)} bytes per Node)`);
    }
  }
}
