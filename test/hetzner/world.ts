/**
 * A scripted cluster on Hetzner Cloud for hook tests: three nodes on servers 101–103 in fsn1,
 * an ingress Service with endpoints on all of them, a shared Firewall that already holds foreign
 * rules and a foreign server, the token Secret, and a RoutedIP whose status is fed back from each
 * answer the way Metacontroller writes it. The app talks to the fake Hetzner Cloud API through
 * the real issuer. Several worlds can share one fake and one app (`join`): RoutedIPs sharing a
 * Firewall, each seeing the others as related objects.
 */
import type { FastifyInstance } from 'fastify';
import type { AppOptions } from '../../src/app.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import type { Node, Secret } from '../../src/schemas/kubernetes.js';
import type { RoutedIPIssuerSpec, RoutedIPObject } from '../../src/schemas/routed-ip.js';
import { node, notReady, routedIP, withLabels, withProviderID } from '../fixtures/k8s.js';
import { buildTestApp, testClock, type Teardown } from '../helpers/app.js';
import { condition, IngressHookWorld, WORLD_FIREWALL } from '../helpers/hook-world.js';
import type { ModelOptions } from '../fakes/hetzner/model.js';
import type { FakeHetzner } from '../fakes/hetzner/server.js';
import type { FakeTap } from '../digitalocean/helpers.js';
import { startFake, tokenSecret } from './helpers.js';

export const FIREWALL = WORLD_FIREWALL;
/** A server outside the cluster that the Firewall already protects. */
export const BASTION = 150;
/** Rules someone else put on the shared Firewall (kept byte for byte by every write). */
export const FOREIGN_RULES = [
  { description: 'ssh from the office', direction: 'in', port: '22', protocol: 'tcp', source_ips: ['10.0.0.0/8'], destination_ips: [] },
  { description: null, direction: 'in', port: null, protocol: 'icmp', source_ips: ['0.0.0.0/0', '::/0'], destination_ips: [] },
  { description: 'egress dns', direction: 'out', port: '53', protocol: 'udp', source_ips: [], destination_ips: ['0.0.0.0/0'] },
];

/** A mutable scripted world around one fake project. */
export class HetznerWorld extends IngressHookWorld {
  fake!: FakeHetzner;
  readonly clock = testClock();
  nodes: Node[] = [101, 102, 103].map((id, i) =>
    node(`n${i + 1}`, withProviderID(`hcloud://${id}`), withLabels({ 'topology.kubernetes.io/region': 'fsn1' })),
  );
  secrets: Secret[] = [tokenSecret()];
  parent: RoutedIPObject;
  app!: FastifyInstance;
  logs: string[] = [];
  /** Other RoutedIPs of the namespace (delivered as related objects). */
  others: HetznerWorld[] = [];

  constructor(name = 'public') {
    super();
    this.parent = routedIP(name, { serviceRef: { name: 'ingress-nginx' } });
  }

  /** Starts the fake (seeded) and the app. */
  async start(t: FakeTap & Teardown, options: Partial<ModelOptions> = {}, appOptions: Pick<AppOptions, 'clusterName'> = {}): Promise<this> {
    this.fake = await startFake(t, options);
    this.fake.model.addServer(BASTION, 'fsn1', 'bastion');
    this.fake.model.addFirewall(FIREWALL, FOREIGN_RULES, [{ type: 'server', server: { id: BASTION } }]);
    const built = await buildTestApp(t, {
      registry: createIssuerRegistry({ hetzner: { now: () => this.clock.now().getTime() } }),
      clock: this.clock.now,
      ...appOptions,
    });
    this.app = built.app;
    this.logs = built.logs;
    return this;
  }

  /** Another RoutedIP `name` in the same namespace, on the same fake, app and clock. */
  join(name: string): HetznerWorld {
    const w = new HetznerWorld(name);
    Object.assign(w, { fake: this.fake, app: this.app, logs: this.logs, clock: this.clock });
    w.others = [this, ...this.others];
    for (const o of [this, ...this.others]) o.others.push(w);
    return w;
  }

  protected providerSpec(): Partial<RoutedIPIssuerSpec> {
    return { hetzner: { location: 'fsn1', tokenSecretRef: { name: 'hcloud-api' }, endpoint: this.fake.endpoint } };
  }

  protected relatedRoutedIPs(parent: RoutedIPObject): RoutedIPObject[] {
    return [parent, ...this.others.map((o) => o.parent)];
  }

  /** Marks the node holding the IP NotReady. */
  failHolder(): string {
    const old = this.status.node!;
    this.nodes = this.nodes.map((n) => {
      if (n.metadata.name !== old) return n;
      const copy = structuredClone(n);
      notReady()(copy);
      return copy;
    });
    return old;
  }

  /** The Firewall as the fake holds it. */
  get firewall() {
    return this.fake.model.firewallByName(FIREWALL)!;
  }

  /** The fake's Floating IP behind `status.address`. */
  get floatingIP() {
    return this.fake.model.floatingIPByAddress(this.status.address!);
  }
}

export { condition };

/** The server id of node `nX` (`n1` → 101). */
export const serverOf = (nodeName: string | undefined) => (nodeName === undefined ? undefined : 100 + Number(nodeName.slice(1)));

/** Our (inbound single-port) rules as `protocol/port`, sorted, foreign ones included. */
export const rulesOf = (w: HetznerWorld) => (w.firewall.rules as Array<{ protocol: string; port: string | null; direction: string }>).map((r) => `${r.direction} ${r.protocol}/${r.port ?? '-'}`).sort();

/** The servers the Firewall is applied to directly. */
export const appliedServers = (w: HetznerWorld) => w.firewall.appliedTo.flatMap((a) => (a.type === 'server' ? [a.server.id] : [])).sort((a, b) => a - b);
