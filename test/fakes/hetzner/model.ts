/**
 * The state of a fake Hetzner Cloud project and the rules the real API enforces on it: Floating
 * IP names unique per project (`uniqueness_error`), a Floating IP with a running action refuses
 * new ones (`locked`), `protection.delete` refuses a delete (`protected`), a Floating IP's
 * `server` that changes only when its assign action finishes, Firewall rules replaced whole by
 * `set_rules` (50 at most) and kept exactly as sent, `apply_to_resources` on a server already
 * applied (`firewall_already_applied`), label-selector resources, and actions that can end in
 * `error`. Time is counted in reads (GET requests), so tests stay deterministic.
 */
import { matchesSelector } from './selector.js';
import { LOCATIONS, type FakeAction, type FakeApplied, type FakeFirewall, type FakeFloatingIP, type FakeLocation, type FakeServer } from './views.js';

/** An error answer: HTTP status, Hetzner error `code` and `message`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** An action with what it does when it succeeds. */
interface ActionRecord extends FakeAction {
  readsLeft: number;
  readonly apply: () => void;
  readonly floatingIP?: number;
}

/** Knobs of the fake project. */
export interface ModelOptions {
  /** GET requests after which a new action finishes (0 = at once, Infinity = only `completeActions`). */
  actionReads: number;
}

/** `error` for the next actions of `command` (a test arms it; each use consumes one). */
export interface ActionFailure {
  readonly command: string;
  readonly code: string;
  readonly message: string;
  /** Fail at once in the POST's answer instead of after `actionReads`. */
  readonly immediate?: boolean;
  times: number;
}

export { matchesSelector };

const NOW = '2026-11-01T00:00:00+00:00';
const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

/** The project: locations, servers, Floating IPs, Firewalls and actions. */
export class HetznerModel {
  readonly options: ModelOptions;
  readonly servers = new Map<number, FakeServer>();
  readonly floatingIPs = new Map<number, FakeFloatingIP>();
  readonly firewalls = new Map<number, FakeFirewall>();
  readonly actions = new Map<number, ActionRecord>();
  readonly failures: ActionFailure[] = [];
  private nextId = 4_700;
  private nextAction = 13_000_001;
  private nextIP = 10;

  constructor(options: Partial<ModelOptions> = {}) {
    this.options = { actionReads: 2, ...options };
  }

  location(name: string): FakeLocation {
    const l = LOCATIONS.find((x) => x.name === name);
    if (!l) throw new ApiError(400, 'invalid_input', `invalid location ${name}`);
    return l;
  }

  addServer(id: number, location: string, name = `server-${id}`, labels: Record<string, string> = {}): FakeServer {
    const s = { id, name, location: this.location(location), labels };
    this.servers.set(id, s);
    return s;
  }

  /** Seeds a Floating IP (an adoptable or foreign one); returns it. */
  addFloatingIP(location: string, options: Partial<Pick<FakeFloatingIP, 'server' | 'labels' | 'name' | 'protection' | 'description'>> = {}): FakeFloatingIP {
    const id = this.nextId++;
    const f: FakeFloatingIP = {
      id, ip: `198.51.100.${this.nextIP++}`, name: options.name ?? `fip-${id}`, description: options.description ?? null,
      labels: options.labels ?? {}, server: options.server ?? null, home: this.location(location), protection: options.protection ?? { delete: false },
    };
    this.floatingIPs.set(id, f);
    return f;
  }

  /** Seeds a Firewall with rules (kept as given) and resources; returns it. */
  addFirewall(name: string, rules: unknown[] = [], appliedTo: FakeApplied[] = []): FakeFirewall {
    const fw: FakeFirewall = { id: this.nextId++, name, labels: {}, rules: structuredClone(rules), appliedTo: structuredClone(appliedTo) };
    this.firewalls.set(fw.id, fw);
    return fw;
  }

  firewallByName(name: string): FakeFirewall | undefined {
    return [...this.firewalls.values()].find((f) => f.name === name);
  }

  floatingIPByAddress(ip: string): FakeFloatingIP | undefined {
    return [...this.floatingIPs.values()].find((f) => f.ip === ip);
  }

  /** Servers a Firewall protects: applied directly or matched by one of its label selectors. */
  protectedServers(fw: FakeFirewall): number[] {
    const out = new Set<number>();
    for (const a of fw.appliedTo) {
      if (a.type === 'server') out.add(a.server.id);
      else for (const s of this.servers.values()) if (matchesSelector(s.labels, a.label_selector.selector)) out.add(s.id);
    }
    return [...out].sort((a, b) => a - b);
  }

  /** Actions still running, for assertions. */
  running(): FakeAction[] {
    return [...this.actions.values()].filter((a) => a.status === 'running');
  }

  /** Finishes every running action now. */
  completeActions(): void {
    for (const a of this.actions.values()) if (a.status === 'running') this.finish(a);
  }

  /** One read happened: running actions move on. */
  tick(): void {
    for (const a of this.actions.values()) {
      if (a.status !== 'running') continue;
      if (--a.readsLeft <= 0) this.finish(a);
    }
  }

  private failureFor(command: string, immediate: boolean): ActionFailure | undefined {
    const i = this.failures.findIndex((f) => f.command === command && (f.immediate === true) === immediate && f.times > 0);
    const f = this.failures[i];
    if (f && --f.times <= 0) this.failures.splice(i, 1);
    return f;
  }

  private finish(a: ActionRecord): void {
    const failure = this.failureFor(a.command, false);
    a.progress = 100;
    a.finished = NOW;
    if (failure) {
      a.status = 'error';
      a.error = { code: failure.code, message: failure.message };
      return;
    }
    a.status = 'success';
    a.apply();
  }

  /** Starts an action; it finishes after `actionReads` reads (at once when 0). */
  private act(command: string, resources: Array<{ id: number; type: string }>, apply: () => void, floatingIP?: number): ActionRecord {
    const a: ActionRecord = {
      id: this.nextAction++, command, status: 'running', progress: 0, started: NOW, finished: null, resources, error: null,
      readsLeft: this.options.actionReads, apply, ...(floatingIP !== undefined ? { floatingIP } : {}),
    };
    this.actions.set(a.id, a);
    const immediate = this.failureFor(command, true);
    if (immediate) {
      a.status = 'error';
      a.progress = 100;
      a.finished = NOW;
      a.error = { code: immediate.code, message: immediate.message };
    } else if (this.options.actionReads <= 0) this.finish(a);
    return a;
  }

  /** Actions of a Floating IP. */
  actionsOf(floatingIP: number): ActionRecord[] {
    return [...this.actions.values()].filter((a) => a.floatingIP === floatingIP);
  }

  floatingIP(id: number): FakeFloatingIP {
    const f = this.floatingIPs.get(id);
    if (!f) throw notFound(`Floating IP with ID ${id}`);
    return f;
  }

  private unlocked(f: FakeFloatingIP): void {
    if (this.actionsOf(f.id).some((a) => a.status === 'running')) throw new ApiError(423, 'locked', 'Floating IP is locked by a running action');
  }

  private server(id: number): FakeServer {
    const s = this.servers.get(id);
    if (!s) throw notFound(`server with ID ${id}`);
    return s;
  }

  createFloatingIP(body: { type: string; name?: string; description?: string | null; labels?: Record<string, string>; server?: number | null; home_location?: string }): { floatingIP: FakeFloatingIP; action?: ActionRecord } {
    if (body.type !== 'ipv4') throw new ApiError(400, 'invalid_input', 'only ipv4 in this fake');
    if (body.name !== undefined && [...this.floatingIPs.values()].some((f) => f.name === body.name)) {
      throw new ApiError(409, 'uniqueness_error', 'name is already used');
    }
    const server = body.server !== undefined && body.server !== null ? this.server(body.server) : undefined;
    if (!server && body.home_location === undefined) throw new ApiError(400, 'invalid_input', 'home_location or server is required');
    const f = this.addFloatingIP(server ? server.location.name : body.home_location!, {
      ...(body.name !== undefined ? { name: body.name } : {}), description: body.description ?? null, labels: { ...(body.labels ?? {}) },
    });
    if (!server) return { floatingIP: f };
    const action = this.act('assign_floating_ip', [{ id: server.id, type: 'server' }, { id: f.id, type: 'floating_ip' }], () => void (f.server = server.id), f.id);
    return { floatingIP: f, action };
  }

  assign(id: number, serverId: number): ActionRecord {
    const f = this.floatingIP(id);
    const server = this.server(serverId);
    this.unlocked(f);
    return this.act('assign_floating_ip', [{ id: server.id, type: 'server' }, { id: f.id, type: 'floating_ip' }], () => void (f.server = server.id), f.id);
  }

  unassign(id: number): ActionRecord {
    const f = this.floatingIP(id);
    this.unlocked(f);
    return this.act('unassign_floating_ip', [{ id: f.id, type: 'floating_ip' }], () => void (f.server = null), f.id);
  }

  deleteFloatingIP(id: number): void {
    const f = this.floatingIP(id);
    if (f.protection.delete) throw new ApiError(423, 'protected', 'Floating IP is delete protected');
    this.unlocked(f);
    this.floatingIPs.delete(id);
  }

  firewall(id: number): FakeFirewall {
    const fw = this.firewalls.get(id);
    if (!fw) throw notFound(`firewall with ID ${id}`);
    return fw;
  }

  setRules(id: number, rules: unknown[]): ActionRecord[] {
    const fw = this.firewall(id);
    if (rules.length > 50) throw new ApiError(422, 'resource_limit_exceeded', 'a firewall holds at most 50 rules');
    // The API stores every rule with all its fields; a rule read back is complete.
    fw.rules = (structuredClone(rules) as Array<Record<string, unknown>>).map((r) => ({
      ...r, description: r.description ?? null, port: r.port ?? null, source_ips: r.source_ips ?? [], destination_ips: r.destination_ips ?? [],
    }));
    return [this.act('set_firewall_rules', [{ id: fw.id, type: 'firewall' }], () => undefined)];
  }

  applyTo(id: number, servers: number[]): ActionRecord[] {
    const fw = this.firewall(id);
    for (const s of servers) this.server(s);
    if (servers.some((s) => fw.appliedTo.some((a) => a.type === 'server' && a.server.id === s))) {
      throw new ApiError(409, 'firewall_already_applied', 'firewall is already applied to the resource');
    }
    return servers.map((s) => {
      fw.appliedTo.push({ type: 'server', server: { id: s } });
      return this.act('apply_firewall', [{ id: s, type: 'server' }, { id: fw.id, type: 'firewall' }], () => undefined);
    });
  }

  removeFrom(id: number, servers: number[]): ActionRecord[] {
    const fw = this.firewall(id);
    if (servers.some((s) => !fw.appliedTo.some((a) => a.type === 'server' && a.server.id === s))) {
      throw new ApiError(409, 'firewall_already_removed', 'firewall is not applied to the resource');
    }
    return servers.map((s) => {
      fw.appliedTo = fw.appliedTo.filter((a) => !(a.type === 'server' && a.server.id === s));
      return this.act('remove_firewall', [{ id: s, type: 'server' }, { id: fw.id, type: 'firewall' }], () => undefined);
    });
  }

  /** Running actions of a Firewall. */
  firewallActions(id: number): ActionRecord[] {
    return [...this.actions.values()].filter((a) => a.resources.some((r) => r.type === 'firewall' && r.id === id));
  }
}
