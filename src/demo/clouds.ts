/**
 * The clouds the demo can run on: the built-in simulated cloud (default), or a local fake cloud
 * API from `test/fakes` driven through the real issuer and client: DigitalOcean (`--cloud
 * digitalocean`, dots-wrapper) or Hetzner Cloud (`--cloud hetzner`, undici). Development
 * checkouts only — the fakes are test code and not in the image.
 */
import { MemoryCloud } from '../issuers/memory/cloud.js';
import { createIssuerRegistry, type IssuerRegistry } from '../issuers/registry.js';
import type { Secret } from '../schemas/kubernetes.js';
import type { RoutedIPIssuerSpec } from '../schemas/routed-ip.js';
import { DEMO_ISSUER } from './scenario.js';

/** A cloud the demo drives. */
export interface DemoCloud {
  readonly label: string;
  readonly provider: Pick<RoutedIPIssuerSpec, 'memory' | 'digitalocean' | 'hetzner'>;
  readonly node: (name: string) => { name: string; providerID?: string; labels?: Record<string, string> };
  readonly secrets: Secret[];
  readonly registry: IssuerRegistry;
  /** Cloud writes so far, oldest first. */
  writes(): string[];
  /** The cloud's state, one line per resource. */
  state(): string[];
  close(): Promise<void>;
}

/**
 * The built-in simulated cloud. The memory issuer keeps each issuer's resources in the account
 * `namespace/name` of that issuer, so this is the account the demo shows; its firewall exists
 * before the RoutedIP, as a real one would.
 */
export function memoryDemoCloud(cloud = new MemoryCloud()): DemoCloud {
  const account = `${DEMO_ISSUER.namespace}/${DEMO_ISSUER.name}`;
  cloud.account(account).ensureFirewall('ingress-public');
  return {
    label: 'built-in simulated cloud (memory)',
    provider: { memory: { firewalls: ['ingress-public'] } },
    node: (name) => ({ name }),
    secrets: [],
    registry: createIssuerRegistry({ memoryCloud: cloud }),
    writes: () => cloud.writes(account).map((c) => `${c.method}(${c.args})`),
    state: () => {
      const snap = cloud.snapshot(account);
      const ips = snap.ips.map((ip) => `${ip.address}→${ip.holder ?? 'unassigned'}`).join(', ') || 'none';
      return [`addresses: ${ips}`, ...snap.firewalls.map((fw) => `firewall ${fw.name}: ${fw.rules.map((r) => `${r.protocol}/${r.port}`).join(',') || 'no rules'}; nodes: ${fw.nodes.join(',') || 'none'}`)];
    },
    close: async () => undefined,
  };
}

/** The structural view of the test fake the demo uses. */
interface FakeDigitalOceanLike {
  readonly endpoint: string;
  readonly tokens: Set<string>;
  readonly model: {
    addDroplet(id: number, region: string, name: string): unknown;
    addFirewall(name: string): string;
    readonly reservedIPs: Map<string, { ip: string; dropletId: number | null }>;
    readonly firewalls: Map<string, { name: string; dropletIds: number[]; inbound: Array<{ protocol: string; ports: string }> }>;
  };
  mutations(): string[];
  start(): Promise<FakeDigitalOceanLike>;
  close(): Promise<void>;
}

const DROPLETS: Record<string, number> = { 'node-a': 101, 'node-b': 102, 'node-c': 103 };

/** The local fake DigitalOcean API (spec-validated), reached by the real DigitalOcean issuer. */
export async function digitalOceanDemoCloud(): Promise<DemoCloud> {
  process.env.NO_PROXY = '127.0.0.1,localhost';
  const url = new URL('../../test/fakes/digitalocean/server.ts', import.meta.url).href;
  const mod = (await import(url)) as { FakeDigitalOcean: new () => FakeDigitalOceanLike };
  const fake = await new mod.FakeDigitalOcean().start();
  for (const [name, id] of Object.entries(DROPLETS)) fake.model.addDroplet(id, 'nyc3', name);
  fake.model.addFirewall('ingress-public');
  const token = 'demo-token-not-secret';
  fake.tokens.add(token);
  return {
    label: `local fake DigitalOcean API at ${fake.endpoint}`,
    provider: { digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api', key: 'token' }, endpoint: fake.endpoint } },
    node: (name) => ({ name, providerID: `digitalocean://${DROPLETS[name]}`, labels: { 'topology.kubernetes.io/region': 'nyc3' } }),
    secrets: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'do-api', namespace: 'ingress', labels: { 'routedip.io/issuer': 'do' } }, data: { token: Buffer.from(token).toString('base64') } }],
    registry: createIssuerRegistry(),
    writes: () => fake.mutations(),
    state: () => {
      const byId = new Map(Object.entries(DROPLETS).map(([n, id]) => [id, n]));
      const ips = [...fake.model.reservedIPs.values()].map((r) => `${r.ip}→${r.dropletId === null ? 'unassigned' : (byId.get(r.dropletId) ?? r.dropletId)}`).join(', ') || 'none';
      return [`reserved IPs: ${ips}`, ...[...fake.model.firewalls.values()].map((fw) => `firewall ${fw.name}: ${fw.inbound.map((r) => `${r.protocol}/${r.ports}`).join(',') || 'no rules'}; droplets: ${fw.dropletIds.join(',') || 'none'}`)];
    },
    close: () => fake.close(),
  };
}

/** The structural view of the fake Hetzner Cloud API the demo uses. */
interface FakeHetznerLike {
  readonly endpoint: string;
  readonly tokens: Set<string>;
  readonly violations: string[];
  readonly model: {
    addServer(id: number, location: string, name: string): unknown;
    addFirewall(name: string, rules: unknown[]): unknown;
    readonly floatingIPs: Map<number, { ip: string; server: number | null }>;
    readonly firewalls: Map<number, { name: string; rules: unknown[]; appliedTo: Array<{ type: string; server?: { id: number } }> }>;
  };
  mutations(): string[];
  start(): Promise<FakeHetznerLike>;
  close(): Promise<void>;
}

const SERVERS: Record<string, number> = { 'node-a': 101, 'node-b': 102, 'node-c': 103 };

/** The local fake Hetzner Cloud API (spec-validated), reached by the real Hetzner issuer. */
export async function hetznerDemoCloud(): Promise<DemoCloud> {
  const url = new URL('../../test/fakes/hetzner/server.ts', import.meta.url).href;
  const mod = (await import(url)) as { FakeHetzner: new (o: { actionReads: number }) => FakeHetznerLike };
  const fake = await new mod.FakeHetzner({ actionReads: 1 }).start();
  for (const [name, id] of Object.entries(SERVERS)) fake.model.addServer(id, 'fsn1', name);
  fake.model.addFirewall('ingress-public', [{ description: 'ssh from the office', direction: 'in', port: '22', protocol: 'tcp', source_ips: ['10.0.0.0/8'], destination_ips: [] }]);
  const token = 'demo-token-not-secret';
  fake.tokens.add(token);
  const byId = new Map(Object.entries(SERVERS).map(([n, id]) => [id, n]));
  const rule = (r: unknown) => {
    const x = r as { protocol: string; port: string | null; description: string | null };
    return `${x.protocol}/${x.port ?? '*'}${x.description?.startsWith('routedip:') ? '' : ' (foreign)'}`;
  };
  return {
    label: `local fake Hetzner Cloud API at ${fake.endpoint}`,
    provider: { hetzner: { location: 'fsn1', tokenSecretRef: { name: 'hcloud-api', key: 'token' }, endpoint: fake.endpoint } },
    node: (name) => ({ name, providerID: `hcloud://${SERVERS[name]}`, labels: { 'topology.kubernetes.io/region': 'fsn1' } }),
    secrets: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hcloud-api', namespace: 'ingress', labels: { 'routedip.io/issuer': 'hetzner' } }, data: { token: Buffer.from(token).toString('base64') } }],
    registry: createIssuerRegistry(),
    writes: () => fake.mutations(),
    state: () => {
      const ips = [...fake.model.floatingIPs.values()].map((f) => `${f.ip}→${f.server === null ? 'unassigned' : (byId.get(f.server) ?? f.server)}`).join(', ') || 'none';
      const fws = [...fake.model.firewalls.values()].map((fw) => {
        const servers = fw.appliedTo.flatMap((a) => (a.server ? [byId.get(a.server.id) ?? a.server.id] : [])).join(',') || 'none';
        return `firewall ${fw.name}: ${fw.rules.map(rule).join(',') || 'no rules'}; servers: ${servers}`;
      });
      return [`floating IPs: ${ips}`, ...fws, ...(fake.violations.length > 0 ? [`API description violations: ${fake.violations.length}`] : [])];
    },
    close: () => fake.close(),
  };
}
