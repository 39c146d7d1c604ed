/**
 * A scripted cluster around the memory cloud for hook tests: nodes, an ingress Service with
 * EndpointSlices, an issuer with a firewall, and a RoutedIP whose status is fed back from each
 * answer — the way Metacontroller writes status and sends it again with the next sync.
 */
import type { FastifyInstance } from 'fastify';
import { MemoryCloud } from '../../src/issuers/memory/cloud.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import type { Node } from '../../src/schemas/kubernetes.js';
import type { RoutedIPIssuerSpec, RoutedIPObject, RoutedIPStatus } from '../../src/schemas/routed-ip.js';
import { ingressRequest, node, routedIP, type World } from '../fixtures/k8s.js';
import { buildTestApp, finalize, sync, syncSettled, testClock, type HookAnswer, type Teardown } from '../helpers/app.js';

/** Memory account of the default issuer. */
export const ACCOUNT = 'ingress/cloud';
export const FIREWALL = 'ingress-public';

/** A mutable scripted world. */
export class ScriptedWorld {
  readonly cloud = new MemoryCloud();
  readonly clock = testClock();
  nodes: Node[] = [node('n1'), node('n2'), node('n3')];
  ports: number[] = [80, 443];
  endpointsOn: string[] = ['n1', 'n2', 'n3'];
  issuerSpec: RoutedIPIssuerSpec = { routedIPReclaimPolicy: 'Delete', routedIPFirewallName: FIREWALL, memory: { firewalls: [FIREWALL] } };
  parent: RoutedIPObject = routedIP('public', { serviceRef: { name: 'ingress-nginx' } });
  siblings: RoutedIPObject[] = [];
  app!: FastifyInstance;
  logs: string[] = [];

  /** Builds the app over this world's cloud and clock. */
  async start(t: Teardown, hookToken?: string): Promise<this> {
    const built = await buildTestApp(t, {
      registry: createIssuerRegistry({ memoryCloud: this.cloud }),
      clock: this.clock.now,
      ...(hookToken ? { hookToken } : {}),
    });
    this.app = built.app;
    this.logs = built.logs;
    return this;
  }

  /** The hook request for the current world. */
  request(extra: Partial<World> = {}) {
    return ingressRequest(this, { routedIPs: this.siblings, ...extra });
  }

  /** POST /sync once and feed the answered status back into the parent, as Metacontroller would. */
  async syncOnce(headers?: Record<string, string>): Promise<HookAnswer> {
    const answer = await sync(this.app, this.request(), headers);
    if (answer.statusCode === 200) this.parent = { ...this.parent, status: answer.body.status };
    return answer;
  }

  /** `syncOnce`, repeated while an answer only recorded a firewall claim (see `syncSettled`). */
  sync(headers?: Record<string, string>): Promise<HookAnswer & { claims: number }> {
    return syncSettled(() => this.syncOnce(headers));
  }

  /** POST /finalize (the parent carries a deletionTimestamp) and feed the status back. */
  async finalize(): Promise<HookAnswer> {
    this.parent = { ...this.parent, metadata: { ...this.parent.metadata, deletionTimestamp: '2026-11-23T12:00:00Z' } };
    const answer = await finalize(this.app, this.request());
    if (answer.statusCode === 200) this.parent = { ...this.parent, status: answer.body.status };
    return answer;
  }

  /** A second RoutedIP `name` on the same app, cloud and clock, that sees this one as a sibling. */
  sibling(name: string): ScriptedWorld {
    const b = new ScriptedWorld();
    Object.assign(b, { cloud: this.cloud, app: this.app, clock: this.clock });
    b.parent = { ...b.parent, metadata: { ...b.parent.metadata, name, uid: `uid-${name}` } };
    b.siblings = [this.parent];
    return b;
  }

  /** Current status. */
  get status(): RoutedIPStatus {
    return this.parent.status as RoutedIPStatus;
  }

  /** Mutating calls the cloud saw since the last `clearCalls`, as `method args`. */
  writes(): string[] {
    return this.cloud.writes(ACCOUNT).filter((c) => c.changed || c.error).map((c) => `${c.method} ${c.args}`);
  }

  /** Write calls (including no-op writes) by method name only. */
  writeMethods(): string[] {
    return this.cloud.writes(ACCOUNT).map((c) => c.method);
  }
}

/** The status of condition `type`. */
export const condition = (status: RoutedIPStatus, type: string) => status.conditions.find((c) => c.type === type);
