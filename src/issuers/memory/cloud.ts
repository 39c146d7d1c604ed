/**
 * MemoryCloud: the built-in simulated cloud behind the `memory` issuer (external-dns inmemory
 * style). One instance per process holds every account, keyed by issuer `namespace/name`, so
 * state persists across hook calls. Addresses come from 203.0.113.0/24 (TEST-NET-3), lowest
 * free host first, unique across the whole cloud like a real public pool.
 *
 * Besides serving issuers, it is the test instrument: seeding foreign state, deep-copied
 * snapshots, a call log (`calls`, `writes`, `clearCalls`) and fault injection (`failNext`,
 * `failAlways`, `clearFaults`).
 */
import { IssuerQuotaError, toIssuerError, type IssuerError } from '../errors.js';
import type { FirewallRule } from '../issuer.js';
import { MemoryAccount, type Applied } from './account.js';
import { FaultPlan, WRITE_METHODS, type FailOptions, type MemoryCall, type MemoryMethod } from './calls.js';
import { mergeRules, type MemoryAccountSnapshot, type MemoryFirewall, type MemoryIP } from './state.js';

export type { MemoryCall, MemoryMethod, FailOptions } from './calls.js';
export type { MemoryAccountSnapshot, MemoryFirewall, MemoryIP, MemoryRule } from './state.js';
export { UID_TAG, OWNER_TAG } from './state.js';

/** Options of a MemoryCloud. */
export interface MemoryCloudOptions {
  /** Addresses each account may hold (DigitalOcean's default is 3, AWS's 5). @default 10 */
  readonly ipLimit?: number;
  /** Accounts the cloud holds; a new one beyond it is refused with IssuerQuotaError. @default 1000 */
  readonly maxAccounts?: number;
  /** Calls the log keeps (the oldest are dropped first). @default 10000 */
  readonly maxCalls?: number;
}

/** What `seedAddress` places in an account: an address that exists before the operator. */
export interface SeedAddress {
  /** @default the lowest free address */
  readonly address?: string;
  readonly holder?: string;
  /** @default {} (an address nobody tagged) */
  readonly tags?: Record<string, string>;
}

const POOL_PREFIX = '203.0.113.';

/** Arguments a caller got wrong at runtime must still be logged, not crash the call. */
function summary(describe: () => string): string {
  try {
    return describe();
  } catch {
    return '(malformed arguments)';
  }
}

/** The simulated cloud. See the module comment. */
export class MemoryCloud {
  private readonly accounts = new Map<string, MemoryAccount>();
  private readonly log: MemoryCall[] = [];
  private readonly faults = new FaultPlan();
  private readonly ipLimit: number;
  private readonly maxAccounts: number;
  private readonly maxCalls: number;

  constructor(options: MemoryCloudOptions = {}) {
    this.ipLimit = options.ipLimit ?? 10;
    this.maxAccounts = options.maxAccounts ?? 1000;
    this.maxCalls = options.maxCalls ?? 10_000;
  }

  /**
   * The account `key` (`namespace/name`), created empty on first use. The process holds every
   * account, and anyone who may create an issuer creates one: beyond `maxAccounts` a new account
   * is refused (IssuerQuotaError) rather than growing memory without bound.
   */
  account(key: string): MemoryAccount {
    let account = this.accounts.get(key);
    if (!account) {
      if (this.accounts.size >= this.maxAccounts) {
        throw new IssuerQuotaError(`the simulated cloud holds its maximum of ${this.maxAccounts} accounts`, 'AccountLimitExceeded');
      }
      account = new MemoryAccount(key, this.ipLimit, () => this.freeAddress());
      this.accounts.set(key, account);
    }
    return account;
  }

  /** Sets how many addresses account `key` may hold. */
  setIPLimit(key: string, limit: number): void {
    this.account(key).ipLimit = limit;
  }

  /** Places an address in account `key` (foreign, or tagged as some RoutedIP's). Returns a copy. */
  seedAddress(key: string, seed: SeedAddress = {}): MemoryIP {
    if (seed.address !== undefined && this.allocated().has(seed.address)) {
      throw new Error(`seedAddress: ${seed.address} is already allocated`);
    }
    return this.account(key).allocate(seed.tags ?? {}, seed.holder, seed.address).result;
  }

  /** Moves (or, with `undefined`, detaches) an address out of band, as a console user would. */
  moveAddress(key: string, address: string, holder: string | undefined): void {
    const ip = this.account(key).ipByAddress(address);
    if (!ip) throw new Error(`moveAddress: ${address} is not in account ${key}`);
    this.account(key).setHolder(ip.id, holder);
  }

  /** Creates firewall `name` in account `key` if absent and adds foreign rules and nodes to it. */
  seedFirewall(key: string, name: string, seed: { rules?: readonly FirewallRule[]; nodes?: readonly string[] } = {}): MemoryFirewall {
    const account = this.account(key);
    const fw = account.ensureFirewall(name).result;
    account.addRules(fw.id, seed.rules ?? []);
    for (const node of seed.nodes ?? []) account.setNode(fw.id, node, true);
    return account.firewallByName(name) as MemoryFirewall;
  }

  /** Deletes firewall `name` out of band. */
  removeFirewall(key: string, name: string): void {
    this.account(key).deleteFirewall(name);
  }

  /** A deep copy of account `key`: raw stored rules, IPs and firewalls sorted by id. */
  snapshot(key: string): MemoryAccountSnapshot {
    const account = this.account(key);
    return { account: key, ipLimit: account.ipLimit, ips: account.listIPs(), firewalls: account.listFirewalls() };
  }

  /** The rules of firewall `name` as an issuer observes them (merged per port), or undefined. */
  observedRules(key: string, name: string): FirewallRule[] | undefined {
    const fw = this.account(key).firewallByName(name);
    return fw && mergeRules(fw.rules);
  }

  /** Keys of every account that exists, sorted. */
  accountKeys(): string[] {
    return [...this.accounts.keys()].sort();
  }

  /** Copies of the logged calls, optionally of one account only. */
  calls(key?: string): MemoryCall[] {
    return this.log.filter((c) => key === undefined || c.account === key).map((c) => ({ ...c }));
  }

  /** Logged calls to write methods (changed or not), optionally of one account only. */
  writes(key?: string): MemoryCall[] {
    return this.calls(key).filter((c) => c.mutating);
  }

  /** Empties the call log (faults are kept). */
  clearCalls(): void {
    this.log.length = 0;
  }

  /** The next `method` call throws `error`; with `afterEffect`, only after changing the cloud. */
  failNext(method: MemoryMethod, error: IssuerError, options?: FailOptions): void {
    this.faults.failNext(method, error, options);
  }

  /** Every `method` call throws `error` (before any effect) until `clearFaults`. */
  failAlways(method: MemoryMethod, error: IssuerError, options?: Omit<FailOptions, 'afterEffect'>): void {
    this.faults.failAlways(method, error, { ...options, afterEffect: false });
  }

  /** Removes every injected fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * Runs one issuer call against account `key`: applies injected faults, logs the call, and
   * maps anything unexpected onto an IssuerError. Used by `createMemoryIssuer`; `describe`
   * summarises the arguments for the log.
   */
  async invoke<T>(key: string, method: MemoryMethod, describe: () => string, operation: (account: MemoryAccount) => Applied<T>): Promise<T> {
    const entry = { account: key, method, args: summary(describe), mutating: WRITE_METHODS.has(method) };
    const fault = this.faults.take(key, method);
    if (fault && !fault.afterEffect) {
      this.record({ ...entry, changed: false, error: fault.error.reason });
      throw fault.error;
    }
    let applied: Applied<T>;
    try {
      applied = operation(this.account(key));
    } catch (err) {
      const error = toIssuerError(err);
      this.record({ ...entry, changed: false, error: error.reason });
      throw error;
    }
    this.record({ ...entry, changed: applied.changed, ...(fault ? { error: fault.error.reason } : {}) });
    if (fault) throw fault.error;
    return applied.result;
  }

  /** Appends to the call log, dropping the oldest half once it is full (amortised O(1), at most `maxCalls`). */
  private record(call: MemoryCall): void {
    if (this.log.length >= this.maxCalls) this.log.splice(0, Math.max(1, Math.ceil(this.maxCalls / 2)));
    this.log.push(call);
  }

  /** Addresses allocated in any account. */
  private allocated(): Set<string> {
    return new Set([...this.accounts.values()].flatMap((a) => a.listIPs().map((ip) => ip.address)));
  }

  /** The lowest host address of 203.0.113.0/24 not allocated anywhere in the cloud. */
  private freeAddress(): string | undefined {
    const taken = this.allocated();
    for (let host = 1; host <= 254; host++) {
      if (!taken.has(POOL_PREFIX + host)) return POOL_PREFIX + host;
    }
    return undefined;
  }
}
