/**
 * FindRoutedIPPorts: the ports a node must accept — the *node-facing* ports of the Service's
 * serving pods, which are not always the EndpointSlice ports:
 *
 *   source                                  node-facing port
 *   spec.ports (explicit override)          exactly those
 *   serving pod with hostNetwork            the endpoint port (the container listens on the node)
 *   serving pod with a hostPort             the hostPort of the container port the endpoint names
 *                                           (Traefik's chart: containerPort 8000 → hostPort 80)
 *   no serving pod known / none node-facing the EndpointSlice port (the earlier behaviour)
 *
 * Serving pods are the Pods of the namespace that the Service selector matches and that a ready,
 * non-terminating endpoint names (`targetRef`), or that run on its node when it names none. Only
 * TCP and UDP can be expressed in both clouds' firewalls. Pure.
 */
import type { EndpointSlice, Pod } from '../schemas/kubernetes.js';
import type { FirewallPort, NodePortSpec } from '../schemas/routed-ip.js';

type Endpoint = NonNullable<EndpointSlice['endpoints']>[number];

const isServing = (e: Endpoint): boolean => e.conditions?.ready !== false && e.conditions?.terminating !== true;

/** Stable key of a port, e.g. `tcp/443`. */
export const portKey = (p: FirewallPort): string => `${p.protocol}/${p.port}`;

/** Sorts ports by protocol then number (status must not depend on input order). */
export function sortPorts<T extends FirewallPort>(ports: Iterable<T>): T[] {
  return [...ports].sort((a, b) => (a.protocol === b.protocol ? a.port - b.port : a.protocol < b.protocol ? -1 : 1));
}

/** A TCP/UDP port in range, or undefined (SCTP and malformed ports cannot be opened). */
function firewallPort(protocol: string | undefined, port: number | undefined): FirewallPort | undefined {
  const p = (protocol ?? 'TCP').toLowerCase();
  if ((p !== 'tcp' && p !== 'udp') || port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { protocol: p, port };
}

/** What FindRoutedIPPorts resolves from. */
export interface PortInputs {
  readonly slices: readonly EndpointSlice[];
  /** Pods of the namespace (related through customize); undefined when none were delivered. */
  readonly pods?: readonly Pod[];
  /** The Service's selector: only Pods it matches can serve it. */
  readonly selector?: Readonly<Record<string, string>> | null;
  /** `spec.ports`: when set, exactly these. */
  readonly explicit?: readonly NodePortSpec[];
}

/** The resolved ports and where they came from, for the step detail. */
export interface ResolvedPorts {
  readonly ports: FirewallPort[];
  /** `spec.ports`, `pods` (hostNetwork/hostPort), `endpoints`, or `pods+endpoints`. */
  readonly from: 'spec.ports' | 'pods' | 'endpoints' | 'pods+endpoints';
}

const selects = (selector: Readonly<Record<string, string>> | null | undefined, pod: Pod): boolean => {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => pod.metadata.labels?.[k] === v);
};

/** The pods serving `endpoint`: named by its targetRef, else selected pods on its node. */
function podsOf(endpoint: Endpoint, candidates: readonly Pod[]): Pod[] {
  const ref = endpoint.targetRef;
  if (ref?.name !== undefined && (ref.kind ?? 'Pod') === 'Pod') return candidates.filter((p) => p.metadata.name === ref.name);
  return endpoint.nodeName === undefined ? [] : candidates.filter((p) => p.spec?.nodeName === endpoint.nodeName);
}

/** The node-facing port a pod gives for endpoint port `port`, if any. */
function nodeFacing(pod: Pod, port: FirewallPort): FirewallPort | undefined {
  if (pod.spec?.hostNetwork === true) return port;
  for (const c of pod.spec?.containers ?? []) {
    for (const cp of c.ports ?? []) {
      if (cp.containerPort !== port.port || (cp.protocol ?? 'TCP').toLowerCase() !== port.protocol) continue;
      const host = firewallPort(port.protocol, cp.hostPort);
      if (host) return host;
    }
  }
  return undefined;
}

/** Resolves the node-facing ports, deduplicated and sorted. */
export function resolvePorts(input: PortInputs): ResolvedPorts {
  const found = new Map<string, FirewallPort>();
  const keep = (p: FirewallPort | undefined) => p && found.set(portKey(p), p);
  if (input.explicit !== undefined) {
    for (const e of input.explicit) keep(firewallPort(e.protocol, e.port));
    return { ports: sortPorts(found.values()), from: 'spec.ports' };
  }
  const candidates = (input.pods ?? []).filter((p) => selects(input.selector, p));
  let fromPods = false;
  let fromEndpoints = false;
  for (const slice of input.slices) {
    const serving = (slice.endpoints ?? []).filter(isServing);
    if (serving.length === 0) continue;
    const pods = [...new Set(serving.flatMap((e) => podsOf(e, candidates)))];
    for (const sp of slice.ports ?? []) {
      const port = firewallPort(sp.protocol, sp.port);
      if (!port) continue;
      const facing = pods.map((pod) => nodeFacing(pod, port)).filter((p): p is FirewallPort => p !== undefined);
      if (facing.length > 0) {
        facing.forEach(keep);
        fromPods = true;
      } else {
        keep(port);
        fromEndpoints = true;
      }
    }
  }
  return { ports: sortPorts(found.values()), from: fromPods && fromEndpoints ? 'pods+endpoints' : fromPods ? 'pods' : 'endpoints' };
}

/** The EndpointSlice ports of slices that have a serving endpoint (no pods known). */
export const findPorts = (slices: readonly EndpointSlice[]): FirewallPort[] => resolvePorts({ slices }).ports;

/** Names of nodes hosting a ready, non-terminating endpoint. */
export function endpointNodes(slices: readonly EndpointSlice[]): Set<string> {
  const nodes = new Set<string>();
  for (const slice of slices) {
    for (const e of slice.endpoints ?? []) {
      if (e.nodeName && isServing(e)) nodes.add(e.nodeName);
    }
  }
  return nodes;
}
