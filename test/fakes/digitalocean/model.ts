/**
 * The state of the fake DigitalOcean account and the rules the real API enforces on it:
 * reserved IPs that stay `locked` while an action on them is `in-progress`, a reserved IP's
 * `droplet` that changes only when its assign completes, one reserved IP per Droplet, an account
 * limit on reserved IPs, Droplet "pending event"s, and firewalls whose `pending_changes` apply
 * after a while. Time is counted in reads (GET requests), so tests stay deterministic.
 */
import { randomUUID } from 'node:crypto';
import type { FakeAction, FakeDroplet, FakeFirewall, FakeRule } from './objects.js';

/** An error answer: HTTP status, DigitalOcean error `id` and `message`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly id: string, message: string) {
    super(message);
  }
}

/** A reserved IP as the fake stores it. */
export interface FakeReservedIP {
  readonly ip: string;
  readonly region: string;
  dropletId: number | null;
}

/** An action with what it does when it completes. */
interface ActionRecord extends FakeAction {
  readonly ip?: string;
  readonly dropletId?: number;
  readsLeft: number;
  hiddenReads: number;
  readonly apply: () => void;
}

/** Knobs of the fake account. */
export interface ModelOptions {
  /** Reserved IPs per account (DigitalOcean's default is 3). */
  reservedIPLimit: number;
  /** GET requests after which a new action completes (Infinity = only `completeActions`). */
  actionReads: number;
  /** GET requests during which a new action answers 404 and is absent from lists. */
  hiddenActionReads: number;
  /** GET requests after which a firewall's `pending_changes` are applied (0 = at once). */
  firewallPendingReads: number;
  /** Whether an action ends `errored` instead of `completed` (the IP does not move). */
  failActions: boolean;
  /** The reserved-IP listing never ends (an account past the operator's page bound). */
  endlessLists: boolean;
}

/** The account: droplets, reserved IPs, actions and firewalls. */
export class DigitalOceanModel {
  readonly options: ModelOptions;
  readonly projectId = '746c6152-2fa2-11ed-92d3-27aaa54e4988';
  readonly droplets = new Map<number, FakeDroplet>();
  readonly reservedIPs = new Map<string, FakeReservedIP>();
  readonly firewalls = new Map<string, FakeFirewall>();
  /** Tags of the account (a Droplet or a firewall may only carry an existing tag). */
  readonly tags = new Set<string>(['k8s']);
  private readonly actions = new Map<number, ActionRecord>();
  private nextAction = 1_000_001;
  private nextIP = 10;

  constructor(options: Partial<ModelOptions> = {}) {
    this.options = { reservedIPLimit: 3, actionReads: 2, hiddenActionReads: 0, firewallPendingReads: 0, failActions: false, endlessLists: false, ...options };
  }

  /** Adds a Droplet (a Kubernetes node's machine). */
  addDroplet(id: number, region = 'nyc3', name = `node-${id}`): FakeDroplet {
    const d: FakeDroplet = { id, name, region, publicIPv4: `192.0.2.${id % 250}`, tags: ['k8s'] };
    this.droplets.set(id, d);
    return d;
  }

  /** Adds a firewall; returns its id. */
  addFirewall(name: string, init: { dropletIds?: number[]; inbound?: FakeRule[]; tags?: string[] } = {}): string {
    const id = randomUUID();
    this.firewalls.set(id, {
      id, name, dropletIds: [...(init.dropletIds ?? [])], tags: [...(init.tags ?? [])], inbound: structuredClone(init.inbound ?? []),
      outbound: [{ protocol: 'tcp', ports: '0', destinations: { addresses: ['0.0.0.0/0', '::/0'] } }], pending: [], pendingReads: 0,
    });
    return id;
  }

  /** Adds a reserved IP that already exists in the account (someone else's, or one to adopt). */
  addReservedIP(region = 'nyc3', dropletId: number | null = null, ip = this.allocateAddress()): string {
    this.reservedIPs.set(ip, { ip, region, dropletId });
    return ip;
  }

  private allocateAddress(): string {
    return `198.51.100.${this.nextIP++}`;
  }

  /** The firewall named `name` (tests). */
  firewallByName(name: string): FakeFirewall | undefined {
    return [...this.firewalls.values()].find((f) => f.name === name);
  }

  /** True while an action on `ip` is in progress. */
  locked(ip: string): boolean {
    return [...this.actions.values()].some((a) => a.ip === ip && a.status === 'in-progress');
  }

  /** True while a Droplet is the target of an in-progress action. */
  dropletBusy(dropletId: number): boolean {
    return [...this.actions.values()].some((a) => a.dropletId === dropletId && a.status === 'in-progress');
  }

  /** The reserved IP held by (or moving to) a Droplet. */
  ipOfDroplet(dropletId: number): FakeReservedIP | undefined {
    return [...this.reservedIPs.values()].find((r) => r.dropletId === dropletId);
  }

  /** Starts an action; `apply` runs when it completes. */
  startAction(type: string, region: string, apply: () => void, ip?: string, dropletId?: number): ActionRecord {
    const a: ActionRecord = {
      id: this.nextAction++, status: 'in-progress', type, resourceId: ip ? ipToInt(ip) : 0, resourceType: 'reserved_ip', region,
      startedAt: '2026-01-01T00:00:00Z', completedAt: null, readsLeft: this.options.actionReads, hiddenReads: this.options.hiddenActionReads, apply,
      ...(ip !== undefined ? { ip } : {}), ...(dropletId !== undefined ? { dropletId } : {}),
    };
    this.actions.set(a.id, a);
    if (a.readsLeft <= 0) this.finish(a);
    return a;
  }

  private finish(a: ActionRecord): void {
    if (a.status !== 'in-progress') return;
    if (this.options.failActions) a.status = 'errored';
    else {
      a.apply();
      a.status = 'completed';
    }
    a.completedAt = '2026-01-01T00:00:10Z';
  }

  /** The action `id` if it is visible yet. */
  action(id: number): ActionRecord | undefined {
    const a = this.actions.get(id);
    return a && a.hiddenReads <= 0 ? a : undefined;
  }

  /** Visible actions of a reserved IP, oldest first. */
  actionsOf(ip: string): ActionRecord[] {
    return [...this.actions.values()].filter((a) => a.ip === ip && a.hiddenReads <= 0);
  }

  /** Actions still in progress (tests). */
  inProgress(): FakeAction[] {
    return [...this.actions.values()].filter((a) => a.status === 'in-progress');
  }

  /** Completes every in-progress action now. */
  completeActions(): void {
    for (const a of this.actions.values()) this.finish(a);
  }

  /**
   * A firewall change reaching Droplet `dropletId` (added or removed, directly or through a
   * tag) is pending for a while when the account is set up that way.
   */
  pendFirewallChange(f: FakeFirewall, dropletId: number, removing: boolean): void {
    if (this.options.firewallPendingReads <= 0) return;
    f.pending.push({ droplet_id: dropletId, removing, status: 'waiting' });
    f.pendingReads = this.options.firewallPendingReads;
  }

  /** The Droplets a firewall applies to: its own plus those carrying one of its tags. */
  appliedDroplets(f: FakeFirewall): number[] {
    const viaTags = [...this.droplets.values()].filter((d) => d.tags.some((t) => f.tags.includes(t))).map((d) => d.id);
    return [...new Set([...f.dropletIds, ...viaTags])].sort((a, b) => a - b);
  }

  /** Applies every pending firewall change now. */
  applyFirewallChanges(): void {
    for (const f of this.firewalls.values()) f.pending = [];
  }

  /** One unit of time: called after each GET the fake answers. */
  tick(): void {
    for (const a of this.actions.values()) {
      if (a.hiddenReads > 0) a.hiddenReads--;
      if (a.status === 'in-progress' && --a.readsLeft <= 0) this.finish(a);
    }
    for (const f of this.firewalls.values()) {
      if (f.pending.length > 0 && --f.pendingReads <= 0) f.pending = [];
    }
  }

  /** A new reserved IP, in `region`, possibly assigned on creation to `dropletId`. */
  createReservedIP(region: string): FakeReservedIP {
    if (this.reservedIPs.size >= this.options.reservedIPLimit) {
      throw new ApiError(422, 'unprocessable_entity', `You have reached the maximum number of reserved IPs (${this.options.reservedIPLimit}) for your account.`);
    }
    const r: FakeReservedIP = { ip: this.allocateAddress(), region, dropletId: null };
    this.reservedIPs.set(r.ip, r);
    return r;
  }
}

const ipToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0) % 2_147_483_647;

/** Two inbound rules are the same rule when protocol, ports and every source list match. */
export function sameRule(a: FakeRule, b: FakeRule): boolean {
  const norm = (r: FakeRule) => JSON.stringify([
    r.protocol, r.ports,
    [...(r.sources.addresses ?? [])].sort(), [...(r.sources.droplet_ids ?? [])].sort(),
    [...(r.sources.load_balancer_uids ?? [])].sort(), [...(r.sources.tags ?? [])].sort(),
  ]);
  return norm(a) === norm(b);
}
