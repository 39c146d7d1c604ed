/**
 * The user's actions and observations a scenario is written in: set up a namespace with nodes
 * and an ingress Service, apply issuers and RoutedIPs, break things (a Node goes NotReady, an
 * endpoint stops being ready, a port changes), and wait for what `kubectl get rip` would show.
 */
import { endpointSlice, namespace, node, nodeStatus, service, condition, type Port } from './objects.js';
import { eventually, type Json, type Kube } from './kube.js';

/** Per-node state of the ingress endpoints. */
export type Endpoints = Record<string, boolean>;

/** One scenario's namespace and the objects it owns. */
export class Runbook {
  private endpoints: Endpoints = {};
  private ports: readonly Port[] = [];

  constructor(readonly kube: Kube, readonly ns: string) {}

  /** Creates the namespace and Ready nodes `names` (with providerIDs from `providerID`). */
  async begin(names: readonly string[], providerID?: (name: string) => string, labels: Record<string, string> = {}): Promise<void> {
    await this.kube.apply(namespace(this.ns));
    for (const name of names) {
      await this.kube.apply(node(this.ns, name, providerID?.(name), labels));
      await this.setNodeReady(name, true);
    }
  }

  /** Sets a Node's Ready condition through the status subresource, as a kubelet would. */
  async setNodeReady(name: string, ready: boolean): Promise<void> {
    await this.kube.patch('Node', undefined, name, nodeStatus(ready), 'status');
  }

  /** Runs the ingress Service `name` with `ports` and a ready endpoint on each of `nodes`. */
  async serve(name: string, ports: readonly Port[], nodes: readonly string[]): Promise<void> {
    this.ports = ports;
    this.endpoints = Object.fromEntries(nodes.map((n) => [n, true]));
    await this.kube.apply(service(this.ns, name, ports));
    await this.kube.apply(endpointSlice(this.ns, name, ports, this.endpointList()));
  }

  /** Changes the Service's ports (and its endpoints' ports). */
  async changePorts(name: string, ports: readonly Port[]): Promise<void> {
    this.ports = ports;
    await this.kube.apply(service(this.ns, name, ports));
    await this.kube.apply(endpointSlice(this.ns, name, ports, this.endpointList()));
  }

  /** Marks the endpoint on `node` ready or not (the ingress pod there failed its probe). */
  async setEndpointReady(name: string, nodeName: string, ready: boolean): Promise<void> {
    this.endpoints[nodeName] = ready;
    await this.kube.apply(endpointSlice(this.ns, name, this.ports, this.endpointList()));
  }

  private endpointList() {
    return Object.entries(this.endpoints).map(([n, ready]) => ({ node: n, ready }));
  }

  /** Applies any object (server-side apply). */
  apply(obj: Json): Promise<Json> {
    return this.kube.apply(obj);
  }

  /** The RoutedIP `name`, or undefined. */
  routedIP(name: string): Promise<Json | undefined> {
    return this.kube.get('RoutedIP', this.ns, name);
  }

  /** Waits until RoutedIP `name` satisfies `check`; returns it. */
  until(name: string, what: string, check: (rip: Json) => boolean, timeoutMs = 90_000): Promise<Json> {
    return eventually(`RoutedIP ${this.ns}/${name}: ${what}`, async () => {
      const rip = await this.routedIP(name);
      return rip && check(rip) ? rip : undefined;
    }, timeoutMs);
  }

  /** Waits until RoutedIP `name` is Ready (and, when given, held by a node `holder` accepts). */
  ready(name: string, holder: (node: string) => boolean = () => true, timeoutMs?: number): Promise<Json> {
    return this.until(name, 'Ready=True', (rip) => condition(rip, 'Ready')?.status === 'True' && holder(rip.status?.node), timeoutMs);
  }

  /** Deletes `kind/name` and waits until the API server no longer has it (finalizers done). */
  async deleteAndWait(kind: string, name: string, timeoutMs = 90_000): Promise<void> {
    await this.kube.delete(kind, this.ns, name);
    await eventually(`${kind} ${this.ns}/${name} to be gone`, async () => ((await this.kube.get(kind, this.ns, name)) ? undefined : true), timeoutMs);
  }
}
