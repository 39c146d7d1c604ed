/**
 * A scripted cluster on DigitalOcean for hook tests: three nodes on droplets 101–103 in nyc3, an
 * ingress Service with endpoints on all of them, a shared firewall that already holds foreign
 * entries, the token Secret, and a RoutedIP whose status is fed back from each answer the way
 * Metacontroller writes it. The app talks to the fake DigitalOcean API through the real issuer.
 */
import type { FastifyInstance } from 'fastify';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import type { Node, Secret } from '../../src/schemas/kubernetes.js';
import type { RoutedIPIssuerSpec, RoutedIPObject } from '../../src/schemas/routed-ip.js';
import { node, routedIP, withProviderID } from '../fixtures/k8s.js';
import { buildTestApp, testClock, type Teardown } from '../helpers/app.js';
import { condition, IngressHookWorld, WORLD_FIREWALL } from '../helpers/hook-world.js';
import type { ModelOptions } from '../fakes/digitalocean/model.js';
import type { FakeDigitalOcean } from '../fakes/digitalocean/server.js';
import { startFake, tokenSecret, type FakeTap } from './helpers.js';

export const FIREWALL = WORLD_FIREWALL;
/** A droplet outside the cluster that the firewall already protects. */
export const BASTION = 150;
/** The rule someone else opened on the shared firewall. */
export const FOREIGN_RULE = { protocol: 'tcp', ports: '22', sources: { addresses: ['10.0.0.0/8'] } };

/** A mutable scripted world around one fake account. */
export class DigitalOceanWorld extends IngressHookWorld {
  fake!: FakeDigitalOcean;
  readonly clock = testClock();
  nodes: Node[] = [101, 102, 103].map((id, i) => node(`n${i + 1}`, withProviderID(`digitalocean://${id}`)));
  secrets: Secret[] = [tokenSecret()];
  parent: RoutedIPObject = routedIP('public', { serviceRef: { name: 'ingress-nginx' } });
  app!: FastifyInstance;
  logs: string[] = [];
  /** Other RoutedIPs delivered as related objects (their status as this call sees it). */
  related: RoutedIPObject[] = [];
  /** `spec.digitalocean.firewallTag`: tag membership when set. */
  firewallTag?: string;

  /** Starts the fake (seeded) and the app. */
  async start(t: FakeTap & Teardown, options: Partial<ModelOptions> = {}): Promise<this> {
    this.fake = await startFake(t, options);
    this.fake.model.addDroplet(BASTION, 'nyc3', 'bastion');
    this.fake.model.addFirewall(FIREWALL, { dropletIds: [BASTION], inbound: [FOREIGN_RULE] });
    const built = await buildTestApp(t, {
      registry: createIssuerRegistry({ digitalocean: { now: () => this.clock.now().getTime() } }),
      clock: this.clock.now,
    });
    this.app = built.app;
    this.logs = built.logs;
    return this;
  }

  /** Another RoutedIP `name` on the same account, app and cluster (its own status). */
  sibling(name: string): DigitalOceanWorld {
    const other = new DigitalOceanWorld();
    Object.assign(other, { fake: this.fake, app: this.app, logs: this.logs, nodes: this.nodes, endpointsOn: [...this.endpointsOn], policy: this.policy, firewallTag: this.firewallTag });
    other.parent = routedIP(name, { serviceRef: { name: 'ingress-nginx' } });
    return other;
  }

  protected providerSpec(): Partial<RoutedIPIssuerSpec> {
    return {
      digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api' }, endpoint: this.fake.endpoint, ...(this.firewallTag !== undefined ? { firewallTag: this.firewallTag } : {}) },
    };
  }

  protected relatedRoutedIPs(): RoutedIPObject[] {
    return this.related;
  }

  /** The firewall as the fake holds it. */
  get firewall() {
    return this.fake.model.firewallByName(FIREWALL)!;
  }
}

export { condition };

/** The droplet id of node `nX` (`n1` → 101). */
export const dropletOf = (nodeName: string | undefined) => (nodeName === undefined ? undefined : 100 + Number(nodeName.slice(1)));
