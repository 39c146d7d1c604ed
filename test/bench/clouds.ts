/**
 * The cloud side of `npm run bench` (issue 10): cloud requests per RoutedIP per minute at one
 * sync per second per RoutedIP, through the app and the real clients against the fake clouds
 * (and moto for AWS), on simulated time (the app's clock moves one second per round, so a
 * minute of syncs takes seconds; request counts do not depend on wall time). Also: syncs from
 * "holder ineligible" to the assign, and 100 RoutedIPs on one DigitalOcean token with 10 failing
 * over at once, counted per 60 s window.
 */
import type { Ec2Api } from '../../src/issuers/aws/client.js';
import type { Node } from '../../src/schemas/kubernetes.js';
import type { RoutedIPStatus } from '../../src/schemas/routed-ip.js';
import { node, notReady, withLabels, withProviderID } from '../fixtures/k8s.js';
import { condition, type HookWorld } from '../helpers/hook-world.js';
import { AwsWorld } from '../aws/world.js';
import { ACCESS_KEY_ID, fakePeer, motoPeer, type Ec2Peer } from '../aws/peers.js';
import { DigitalOceanWorld } from '../digitalocean/world.js';
import { HetznerWorld } from '../hetzner/world.js';

/** What the worlds' setup needs from tap: teardowns run at the end, no subtests. */
export class BenchTap {
  private readonly teardowns: Array<() => unknown> = [];
  teardown(fn: () => unknown): void {
    this.teardowns.push(fn);
  }
  test(): void {}
  async end(): Promise<void> {
    for (const fn of this.teardowns.reverse()) await fn();
  }
}

/** Reads and writes sent so far to one cloud. */
type Counter = () => { reads: number; writes: number };

/** A fleet of RoutedIPs on one account, all Ready. */
interface Fleet {
  readonly worlds: HookWorld[];
  readonly count: Counter;
  /** Moves the app's clock. */
  advance(seconds: number): void;
  /** Sets each world's view of its siblings before a sync. */
  see(world: HookWorld): void;
  /** Marks node `name` NotReady (in place: every world shares the node list). */
  failNode(name: string): void;
  /** Whether `world`'s assign/associate call was sent since `mark`. */
  assigned(world: HookWorld, mark: number): boolean;
  /** A position in the write log, for `assigned`. */
  writeMark(): number;
}

const statusOf = (w: HookWorld) => w.parent.status as RoutedIPStatus | undefined;

const withNotReady = (n: Node): Node => {
  const copy = structuredClone(n);
  notReady()(copy);
  return copy;
};

/** Syncs every world (siblings in view) until all are Ready. */
async function converge(fleet: Fleet): Promise<void> {
  for (let round = 0; round < 12; round++) {
    let ready = 0;
    for (const w of fleet.worlds) {
      fleet.see(w);
      await w.sync();
      if (condition(w.parent.status as never, 'Ready')?.status === 'True') ready += 1;
    }
    fleet.advance(1);
    // Two more rounds once all are Ready: the sync after a create reports "found", not "created".
    if (ready === fleet.worlds.length) {
      for (let extra = 0; extra < 2; extra++) for (const w of fleet.worlds) (fleet.see(w), await w.sync());
      return;
    }
  }
  throw new Error(`fleet of ${fleet.worlds.length} not Ready after 12 rounds`);
}

/** One round: every world syncs once, then one simulated second passes. */
async function round(fleet: Fleet): Promise<void> {
  for (const w of fleet.worlds) {
    fleet.see(w);
    await w.sync();
  }
  fleet.advance(1);
}

/** Steady state: reads and writes per RoutedIP per minute over `seconds` of 1 sync/s each. */
async function steady(fleet: Fleet, seconds: number): Promise<{ reads: number; writes: number }> {
  // Start on a TTL boundary (the convergence just filled the cache): every minute then holds
  // the same number of cache refills, whatever the TTL.
  fleet.advance(60);
  const before = fleet.count();
  for (let s = 0; s < seconds; s++) await round(fleet);
  const after = fleet.count();
  const per = (x: number) => x / fleet.worlds.length / (seconds / 60);
  return { reads: per(after.reads - before.reads), writes: per(after.writes - before.writes) };
}

/** `spec.digitalocean.firewallTag` of the bench's DigitalOcean fleets too large for Droplet-id membership. */
export const DO_FIREWALL_TAG = 'routedip:bench';
/** Whether a DigitalOcean fleet of `n` RoutedIPs needs tag membership: `n` holders plus the world's bastion past the firewall's 10 Droplets. */
export const doNeedsTag = (n: number): boolean => n + 1 > 10;

async function doFleet(tap: BenchTap, n: number, spare = 10): Promise<Fleet & { world: DigitalOceanWorld }> {
  const w = new DigitalOceanWorld();
  await w.start(tap, { actionReads: 1, reservedIPLimit: 10_000 });
  w.fake.rate.remaining = Number.MAX_SAFE_INTEGER;
  // A firewall applies to at most 10 individual Droplets (the world's bastion is one): a fleet
  // whose holders do not fit puts them in the firewall by tag, as the FirewallDropletLimit
  // condition tells an operator to.
  if (doNeedsTag(n)) w.firewallTag = DO_FIREWALL_TAG;
  const ids = Array.from({ length: n + spare }, (_, i) => 101 + i);
  for (const id of ids) if (id > 103) w.fake.model.addDroplet(id, 'nyc3');
  w.nodes = ids.map((id, i) => node(`n${i + 1}`, withProviderID(`digitalocean://${id}`)));
  w.endpointsOn = w.nodes.map((x) => x.metadata.name);
  const worlds = [w, ...Array.from({ length: n - 1 }, (_, i) => w.sibling(`rip-${i + 2}`))];
  const requests = () => w.fake.requests;
  return {
    world: w,
    worlds,
    count: () => ({ reads: requests().filter((r) => r.startsWith('GET')).length, writes: requests().filter((r) => !r.startsWith('GET')).length }),
    advance: (s) => w.clock.advance(s),
    see: (x) => void ((x as DigitalOceanWorld).related = worlds.filter((o) => o !== x).map((o) => o.parent)),
    failNode: (name) => {
      const i = w.nodes.findIndex((x) => x.metadata.name === name);
      w.nodes[i] = withNotReady(w.nodes[i]!);
    },
    writeMark: () => w.fake.calls.length,
    assigned: (x, mark) => w.fake.calls.slice(mark).some((c) => c.path === `/v2/reserved_ips/${statusOf(x)?.address}/actions` && c.method === 'POST'),
  };
}

async function awsFleet(tap: BenchTap, peer: Ec2Peer, n: number): Promise<Fleet> {
  const sent: string[] = [];
  const wrapApi = (api: Ec2Api): Ec2Api =>
    Object.fromEntries(Object.entries(api).map(([m, fn]) => [m, (input: unknown) => (sent.push(m), (fn as (i: unknown) => Promise<unknown>)(input))])) as unknown as Ec2Api;
  const w = new AwsWorld(peer);
  await w.start(tap, Array.from({ length: n + 1 }, (_, i) => `n${i + 1}`), { wrapApi });
  const worlds: AwsWorld[] = [w, ...Array.from({ length: n - 1 }, (_, i) => w.sibling(`rip-${i + 2}`))];
  return {
    worlds: worlds as unknown as HookWorld[],
    count: () => ({ reads: sent.filter((m) => m.startsWith('describe')).length, writes: sent.filter((m) => !m.startsWith('describe')).length }),
    advance: (s) => w.clock.advance(s),
    see: (x) => void ((x as unknown as AwsWorld).related = worlds.filter((o) => (o as unknown) !== x).map((o) => o.parent)),
    failNode: (name) => {
      const i = w.nodes.findIndex((x) => x.metadata.name === name);
      w.nodes[i] = withNotReady(w.nodes[i]!);
    },
    writeMark: () => sent.length,
    assigned: (_x, mark) => sent.slice(mark).includes('associateAddress'),
  };
}

async function hetznerFleet(tap: BenchTap, n: number): Promise<Fleet> {
  const w = new HetznerWorld();
  await w.start(tap);
  w.fake.rate.remaining = Number.MAX_SAFE_INTEGER;
  const ids = Array.from({ length: n + 1 }, (_, i) => 101 + i);
  for (const id of ids) if (id > 103) w.fake.model.addServer(id, 'fsn1', `node-${id}`);
  w.nodes = ids.map((id, i) => node(`n${i + 1}`, withProviderID(`hcloud://${id}`), withLabels({ 'topology.kubernetes.io/region': 'fsn1' })));
  w.endpointsOn = w.nodes.map((x) => x.metadata.name);
  const worlds: HetznerWorld[] = [w];
  for (let i = 1; i < n; i++) {
    const other = w.join(`rip-${i + 1}`);
    Object.assign(other, { nodes: w.nodes, endpointsOn: w.endpointsOn });
    worlds.push(other);
  }
  const requests = () => w.fake.requests;
  return {
    worlds,
    count: () => ({ reads: requests().filter((r) => r.startsWith('GET')).length, writes: requests().filter((r) => !r.startsWith('GET')).length }),
    advance: (s) => w.clock.advance(s),
    see: () => undefined,
    failNode: (name) => {
      const i = w.nodes.findIndex((x) => x.metadata.name === name);
      w.nodes[i] = withNotReady(w.nodes[i]!);
    },
    writeMark: () => requests().length,
    assigned: (_x, mark) => requests().slice(mark).some((r) => r.startsWith('POST') && r.includes('/actions/assign')),
  };
}

/** Syncs of the failing RoutedIP from "holder ineligible" to its assign call (its own syncs, all others syncing too). */
async function failoverSyncs(fleet: Fleet, victim: HookWorld): Promise<number> {
  const mark = fleet.writeMark();
  fleet.failNode(statusOf(victim)?.node as string);
  for (let syncs = 1; syncs <= 10; syncs++) {
    await round(fleet);
    if (fleet.assigned(victim, mark)) return syncs;
  }
  return Number.NaN;
}

/** The Elastic IP quota the bench's AWS account is given for a fleet of `n`: raised past AWS's default 5 when the fleet needs it. */
export const awsAddressQuota = (n: number): number => Math.max(5, n);

/** One P3/P4 row. */
export interface CloudRow {
  readonly cloud: string;
  readonly routedIPs: number;
  readonly readsPerMin: number;
  readonly writesPerMin: number;
  /** Syncs from holder ineligible to the assign call. */
  readonly failoverSyncs: number;
}

/** P3 and P4 for one cloud and fleet size. */
export async function cloudRow(cloud: 'digitalocean' | 'aws (fake)' | 'aws (moto)' | 'hetzner', n: number, seconds: number): Promise<CloudRow | { cloud: string; skipped: string }> {
  const tap = new BenchTap();
  try {
    let fleet: Fleet;
    if (cloud === 'digitalocean') fleet = await doFleet(tap, n);
    else if (cloud === 'hetzner') fleet = await hetznerFleet(tap, n);
    else {
      // The fake enforces AWS's default quota of 5 Elastic IPs per region; the bench models an
      // account whose quota was raised to fit the fleet (moto enforces none).
      const peer = cloud === 'aws (moto)' ? await motoPeer(tap) : await fakePeer(tap, { acceptedAccessKeyIds: [ACCESS_KEY_ID], addressLimit: awsAddressQuota(n) });
      if ('skip' in peer) return { cloud, skipped: peer.skip };
      fleet = await awsFleet(tap, peer, n);
    }
    await converge(fleet);
    const { reads, writes } = await steady(fleet, seconds);
    const failover = await failoverSyncs(fleet, fleet.worlds[0]!);
    return { cloud, routedIPs: n, readsPerMin: reads, writesPerMin: writes, failoverSyncs: failover };
  } finally {
    await tap.end();
  }
}

/**
 * 100 RoutedIPs on one DigitalOcean token at 1 sync/s each for `seconds`, 10 of their holders
 * failing at once after 10 s: the largest number of requests in any 60 s window (per-second
 * buckets), and whether all 10 were assigned elsewhere and every RoutedIP is Ready at the end.
 */
export async function hundredOnOneToken(n = 100, failing = 10, seconds = 60): Promise<{ maxPerMinute: number; total: number; moved: number; ready: number; n: number }> {
  const tap = new BenchTap();
  try {
    const fleet = await doFleet(tap, n, failing + 5);
    await converge(fleet);
    fleet.advance(60);
    const perSecond: number[] = [];
    const all = () => fleet.count().reads + fleet.count().writes;
    const victims = fleet.worlds.slice(0, failing);
    const old = new Map(victims.map((v) => [v, statusOf(v)?.node as string]));
    for (let s = 0; s < seconds; s++) {
      if (s === 10) for (const v of victims) fleet.failNode(old.get(v)!);
      const before = all();
      await round(fleet);
      perSecond.push(all() - before);
    }
    let maxPerMinute = 0;
    for (let i = 0; i < perSecond.length; i++) maxPerMinute = Math.max(maxPerMinute, perSecond.slice(Math.max(0, i - 59), i + 1).reduce((a, b) => a + b, 0));
    const moved = victims.filter((v) => statusOf(v)?.node !== undefined && statusOf(v)?.node !== old.get(v)).length;
    const ready = fleet.worlds.filter((w) => condition(w.parent.status as never, 'Ready')?.status === 'True').length;
    return { maxPerMinute, total: perSecond.reduce((a, b) => a + b, 0), moved, ready, n };
  } finally {
    await tap.end();
  }
}
