/**
 * One simulated cloud account: the real state machine behind the `memory` issuer. Every
 * operation completes at once and reports whether it changed anything, so the call log can tell
 * a no-op write from a real one. Errors are the classes of `../errors.ts`, with fixed messages.
 */
import { IssuerInvalidError, IssuerNotFoundError, IssuerQuotaError } from '../errors.js';
import type { FirewallRule } from '../issuer.js';
import { byId, type MemoryFirewall, type MemoryIP, type MemoryRule } from './state.js';

/** Outcome of an operation: its result and whether the account state changed. */
export interface Applied<T> {
  readonly result: T;
  readonly changed: boolean;
}

const done = <T>(result: T, changed: boolean): Applied<T> => ({ result, changed });

/**
 * Deep copies of the stored records, as a cloud answers with fresh objects: a caller's change never
 * reaches the account. Field by field rather than `structuredClone`, which cost ~20 µs per record
 * on every converged sync of the memory cloud (`npm run bench`, P1).
 */
const copyIP = (ip: MemoryIP): MemoryIP => ({ ...ip, tags: { ...ip.tags } });
const copyFirewall = (fw: MemoryFirewall): MemoryFirewall => ({ ...fw, rules: fw.rules.map((r) => ({ ...r, sources: [...r.sources] })), nodes: [...fw.nodes] });

/** The state and operations of one account. Returned objects are always copies. */
export class MemoryAccount {
  /** How many IPs the account may hold; creating one more throws `IssuerQuotaError`. */
  ipLimit: number;
  private readonly ips = new Map<string, MemoryIP>();
  private readonly firewalls = new Map<string, MemoryFirewall>();
  /** Firewall name → id (names are unique in an account): lookups stay O(1) per name. */
  private readonly firewallIds = new Map<string, string>();
  private ipSerial = 0;
  private firewallSerial = 0;

  /** `nextAddress` gives the lowest address free in the whole cloud, or undefined when none is. */
  constructor(
    readonly key: string,
    ipLimit: number,
    private readonly nextAddress: () => string | undefined,
  ) {
    this.ipLimit = ipLimit;
  }

  /** Copies of every IP, by id. */
  listIPs(): MemoryIP[] {
    return [...this.ips.values()].sort(byId).map((ip) => copyIP(ip));
  }

  /** Copies of every firewall, by id. */
  listFirewalls(): MemoryFirewall[] {
    return [...this.firewalls.values()].sort(byId).map((fw) => copyFirewall(fw));
  }

  /** The IP with this address, if the account holds it. */
  ipByAddress(address: string): MemoryIP | undefined {
    const ip = [...this.ips.values()].find((i) => i.address === address);
    return ip && copyIP(ip);
  }

  /** The first IP (lowest id) whose tag `key` equals `value`. */
  ipByTag(key: string, value: string): MemoryIP | undefined {
    const ip = [...this.ips.values()].sort(byId).find((i) => i.tags[key] === value);
    return ip && copyIP(ip);
  }

  /** Allocates the lowest free address with `tags`, in one step (a lost response leaves it findable). */
  allocate(tags: Record<string, string>, holder?: string, address?: string): Applied<MemoryIP> {
    if (this.ips.size >= this.ipLimit) {
      throw new IssuerQuotaError(`account ${this.key} already holds its limit of ${this.ipLimit} addresses`, 'AddressLimitExceeded');
    }
    const chosen = address ?? this.nextAddress();
    if (chosen === undefined) throw new IssuerQuotaError('the address pool 203.0.113.0/24 is exhausted', 'AddressPoolExhausted');
    const ip: MemoryIP = { address: chosen, id: `ip-${++this.ipSerial}`, tags: { ...tags }, ...(holder ? { holder } : {}) };
    this.ips.set(ip.id, ip);
    return done(copyIP(ip), true);
  }

  /** Points IP `id` at `holder` (undefined = unassign). The move is atomic. */
  setHolder(id: string, holder: string | undefined): Applied<void> {
    const ip = this.ips.get(id);
    if (!ip) throw new IssuerNotFoundError(`no address with id ${id} in account ${this.key}`, 'AddressNotFound');
    if (ip.holder === holder) return done(undefined, false);
    if (holder === undefined) delete ip.holder;
    else ip.holder = holder;
    return done(undefined, true);
  }

  /** Releases IP `id`. Absent = done. Refused while assigned, like clouds that need an unassign first. */
  release(id: string): Applied<void> {
    const ip = this.ips.get(id);
    if (!ip) return done(undefined, false);
    if (ip.holder !== undefined) {
      throw new IssuerInvalidError(`address ${ip.address} is assigned to ${ip.holder}: unassign it before releasing`, 'AddressInUse');
    }
    this.ips.delete(id);
    return done(undefined, true);
  }

  /** The firewall named `name`, if any. */
  firewallByName(name: string): MemoryFirewall | undefined {
    const id = this.firewallIds.get(name);
    const fw = id === undefined ? undefined : this.firewalls.get(id);
    return fw && copyFirewall(fw);
  }

  /** Creates the firewall `name` unless it exists. */
  ensureFirewall(name: string): Applied<MemoryFirewall> {
    const existing = this.firewallByName(name);
    if (existing) return done(existing, false);
    const fw: MemoryFirewall = { id: `fw-${++this.firewallSerial}`, name, rules: [], nodes: [] };
    this.firewalls.set(fw.id, fw);
    this.firewallIds.set(name, fw.id);
    return done(copyFirewall(fw), true);
  }

  /** Deletes the firewall `name` (test seeding: a firewall removed out of band). */
  deleteFirewall(name: string): Applied<void> {
    const fw = this.firewallByName(name);
    if (fw) {
      this.firewalls.delete(fw.id);
      this.firewallIds.delete(name);
    }
    return done(undefined, fw !== undefined);
  }

  /** Adds the (port, source) pairs of `rules` not yet open, as one new stored rule per port. */
  addRules(firewallId: string, rules: readonly FirewallRule[]): Applied<void> {
    const fw = this.firewall(firewallId);
    let changed = false;
    for (const rule of rules.map(validRule)) {
      const open = new Set(fw.rules.filter((r) => samePort(r, rule)).flatMap((r) => r.sources));
      const missing = [...new Set(rule.sources)].filter((s) => !open.has(s));
      if (missing.length === 0) continue;
      fw.rules.push({ protocol: rule.protocol, port: rule.port, sources: missing });
      changed = true;
    }
    return done(undefined, changed);
  }

  /** Closes exactly the (port, source) pairs of `rules`; absent pairs are ignored. */
  deleteRules(firewallId: string, rules: readonly FirewallRule[]): Applied<void> {
    const fw = this.firewall(firewallId);
    let changed = false;
    for (const rule of rules.map(validRule)) {
      const closing = new Set(rule.sources);
      for (const stored of fw.rules.filter((r) => samePort(r, rule))) {
        const kept = stored.sources.filter((s) => !closing.has(s));
        changed ||= kept.length !== stored.sources.length;
        stored.sources = kept;
      }
    }
    fw.rules = fw.rules.filter((r) => r.sources.length > 0);
    return done(undefined, changed);
  }

  /** Applies the firewall to machine `nodeId`, or removes it (`present: false`). Idempotent. */
  setNode(firewallId: string, nodeId: string, present: boolean): Applied<void> {
    const fw = this.firewall(firewallId);
    const has = fw.nodes.includes(nodeId);
    if (has === present) return done(undefined, false);
    fw.nodes = present ? [...fw.nodes, nodeId].sort() : fw.nodes.filter((n) => n !== nodeId);
    return done(undefined, true);
  }

  private firewall(id: string): MemoryFirewall {
    const fw = this.firewalls.get(id);
    if (!fw) throw new IssuerNotFoundError(`firewall ${id} does not exist in account ${this.key}`, 'FirewallNotFound');
    return fw;
  }
}

const samePort = (a: MemoryRule, b: { protocol: string; port: number }): boolean => a.protocol === b.protocol && a.port === b.port;

/** Rejects what a cloud API would reject: unknown protocol, port out of range, no sources. */
function validRule(rule: FirewallRule): MemoryRule {
  const { protocol, port, sources } = rule;
  if ((protocol !== 'tcp' && protocol !== 'udp') || !Number.isInteger(port) || port < 1 || port > 65535 || sources.length === 0) {
    throw new IssuerInvalidError(`invalid inbound rule ${String(protocol)}/${String(port)} (needs tcp|udp, port 1-65535, sources)`, 'InvalidRule');
  }
  return { protocol, port, sources: [...sources] };
}
