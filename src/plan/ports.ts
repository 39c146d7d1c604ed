/**
 * FindRoutedIPPorts: the ports a node must accept, from the Service's EndpointSlices.
 * Only slices with at least one ready, non-terminating endpoint count (a port nobody serves
 * need not be open); only TCP and UDP can be expressed in both clouds' firewalls.
 */
import type { EndpointSlice } from '../schemas/kubernetes.js';
import type { FirewallPort } from '../schemas/routed-ip.js';

const isServing = (e: NonNullable<EndpointSlice['endpoints']>[number]): boolean =>
  e.conditions?.ready !== false && e.conditions?.terminating !== true;

/** Stable key of a port, e.g. `tcp/443`. */
export const portKey = (p: FirewallPort): string => `${p.protocol}/${p.port}`;

/** Sorts ports by protocol then number (status must not depend on input order). */
export function sortPorts<T extends FirewallPort>(ports: Iterable<T>): T[] {
  return [...ports].sort((a, b) => (a.protocol === b.protocol ? a.port - b.port : a.protocol < b.protocol ? -1 : 1));
}

/** Ports of slices that have a serving endpoint, deduplicated and sorted. */
export function findPorts(slices: readonly EndpointSlice[]): FirewallPort[] {
  const found = new Map<string, FirewallPort>();
  for (const slice of slices) {
    if (!(slice.endpoints ?? []).some(isServing)) continue;
    for (const p of slice.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP').toLowerCase();
      if ((protocol !== 'tcp' && protocol !== 'udp') || p.port === undefined || p.port < 1 || p.port > 65535) continue;
      const port: FirewallPort = { protocol, port: p.port };
      found.set(portKey(port), port);
    }
  }
  return sortPorts(found.values());
}

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
