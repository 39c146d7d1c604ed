/**
 * A session with one cloud account for the length of one hook call (STYLE §9).
 *
 * Everything an issuer shares with the other calls of the process, or that bounds its own call,
 * lives here and reaches the issuer through its `IssuerContext`, so no issuer grows a lock, a
 * budget or a deadline of its own:
 * - the hook's deadline and its `AbortSignal` (aborted at the deadline or when Metacontroller
 *   gives up on the call): passed to every SDK / axios request, and checked before every write,
 *   so no cloud write starts after it;
 * - in-process locks (`serialize`) for work that must not overlap: one RoutedIP's syncs, and
 *   read-modify-write of a shared firewall or machine (an EC2 interface's group set);
 * - per-account state that outlives a call (the rate budget), kept by account key;
 * - the account's read cache (`read-cache.ts`): list answers shared by every RoutedIP of the
 *   account for a short TTL, reads in flight shared, dropped after each write of ours. A call
 *   reads `fresh` unless its caller switched it to `cached` (`withReads`), which reconcile does
 *   only for a pass whose plan may write nothing and change no status.
 *
 * Locks only cover one process: correctness across replicas rests on the deadline, a fresh read
 * before every write and ownership evidence (see docs/design.md "Concurrency").
 */
import { IssuerDeadlineError } from './errors.js';
import { ReadCache, type ReadMode } from './read-cache.js';
import { untilAborted } from './abort.js';

/** Per-account states kept at most (least recently opened dropped first). */
const MAX_ACCOUNTS = 1000;

/**
 * How long a cloud list answer serves the account's converged syncs (CLOUD_READ_CACHE_SECONDS).
 * Drift made outside the operator (the console) shows within this plus the resync period.
 */
export const DEFAULT_READ_CACHE_SECONDS = 60;

/** Options of the process-wide sessions. */
export interface SessionsOptions {
  /** TTL of the per-account read cache, seconds. @default DEFAULT_READ_CACHE_SECONDS */
  readonly readCacheSeconds?: number;
  /** Clock in ms for the read cache (the app's clock). @default Date.now */
  readonly now?: () => number;
}

/** The process-wide part: locks and per-account state. One per app. */
export class Sessions {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly accounts = new Map<string, unknown>();

  constructor(private readonly options: SessionsOptions = {}) {}

  /** The read cache of account `key` (created on first use, kept like the account's state). */
  readCache(key: string): ReadCache {
    return this.state(`reads:${key}`, () => new ReadCache({ ttlMs: (this.options.readCacheSeconds ?? DEFAULT_READ_CACHE_SECONDS) * 1000, now: this.options.now ?? Date.now }));
  }

  /** Opens the session of one hook call, which must stop at `deadline` (ms since epoch) or when `signal` aborts. */
  begin(call: { readonly signal: AbortSignal; readonly deadline: number; readonly budgetMs: number }): HookSession {
    return new HookSession(this, call.signal, call.deadline, call.budgetMs);
  }

  /** The state of account `key`, created by `init` on first use. */
  state<S>(key: string, init: () => S): S {
    if (this.accounts.has(key)) {
      const s = this.accounts.get(key) as S;
      this.accounts.delete(key);
      this.accounts.set(key, s);
      return s;
    }
    const s = init();
    this.accounts.set(key, s);
    if (this.accounts.size > MAX_ACCOUNTS) this.accounts.delete(this.accounts.keys().next().value as string);
    return s;
  }

  /**
   * Waits for `key` (FIFO) unless `signal` aborts first; resolves with the release function.
   * An abandoned wait still passes the turn on, so later waiters are never stuck behind it.
   */
  async acquire(key: string, signal: AbortSignal, onAbort: () => Error): Promise<() => void> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    try {
      await untilAborted(before, signal, onAbort);
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  /** Keys currently locked or waited for (tests: nothing may stay held after the calls end). */
  get heldKeys(): readonly string[] {
    return [...this.tails.keys()].sort();
  }
}

/** One hook call's session. */
export class HookSession {
  /** The cloud account this call works on, as the issuer factory named it (a hash, never a secret). */
  account = 'unbound';
  /** How this call's reads may be served; `fresh` unless a caller chose otherwise (`withReads`). */
  reads: ReadMode = 'fresh';
  /** Reads of this call answered from a stored answer (older than the read): compare before and after. */
  storedAnswers = 0;

  constructor(
    private readonly sessions: Sessions,
    /** Aborted at the deadline or when the caller went away. */
    readonly signal: AbortSignal,
    /** Ms since epoch after which nothing may be started. */
    readonly deadline: number,
    /** The deadline as a duration (for messages). */
    private readonly budgetMs: number,
  ) {}

  /**
   * Binds the session to account `key` (`<provider>:<hash>`) and returns that account's lasting
   * state, created by `init` the first time. Called once by the issuer factory.
   */
  openAccount<S>(key: string, init: () => S): S {
    this.account = key;
    return this.sessions.state(key, init);
  }

  /** Runs `fn` with reads served as `mode`, then restores the previous mode. */
  async withReads<T>(mode: ReadMode, fn: () => Promise<T>): Promise<T> {
    const before = this.reads;
    this.reads = mode;
    try {
      return await fn();
    } finally {
      this.reads = before;
    }
  }

  /**
   * A cloud read through the account's cache: `fetch` answers `resource` (a name unique within
   * the account, e.g. `reserved_ips@<endpoint>`), shared with the account's other calls as
   * `read-cache.ts` says. Reads stop at the deadline like any call.
   */
  async read<T>(resource: string, what: string, fetch: () => Promise<T>): Promise<T> {
    try {
      return await this.sessions.readCache(this.account).read(resource, this.reads, this.signal, fetch, () => (this.storedAnswers += 1));
    } catch (err) {
      if (this.signal.aborted && !(err instanceof IssuerDeadlineError)) throw this.deadlineError(what);
      throw err;
    }
  }

  /**
   * The last answer the account's cache stored for `resource`, whatever its age (`read-cache.ts`
   * `latest`); `undefined` while this call reads `fresh`, so a fresh pass never sees it.
   */
  latestAnswer<T>(resource: string): T | undefined {
    return this.reads === 'cached' ? this.sessions.readCache(this.account).latest<T>(resource) : undefined;
  }

  /**
   * Records that this call's observation rests on something other than a fresh answer of its own:
   * an answer kept past its TTL (`latestAnswer`), or a read a `cached` pass left out. Counted
   * like a stored answer, so the pass may only confirm the previous status (reconcile's read
   * policy) and anything else is observed again fresh.
   */
  inferred(): void {
    this.storedAnswers += 1;
  }

  /** Call after every write of ours to the account (whatever its answer): drops its cached reads. */
  wrote(): void {
    this.sessions.readCache(this.account).invalidate();
  }

  /** True once the deadline passed or the call was abandoned. */
  get expired(): boolean {
    return this.signal.aborted || Date.now() >= this.deadline;
  }

  /** The error reported when the deadline stops `what`. Deterministic text: it lands in status. */
  deadlineError(what: string): IssuerDeadlineError {
    return new IssuerDeadlineError(`the hook's ${Math.round(this.budgetMs / 1000)} s deadline passed before ${what}; the next sync continues from what the cloud shows`);
  }

  /** Throws `IssuerDeadlineError` when the deadline passed. Call before starting any cloud write. */
  beforeWrite(what: string): void {
    if (this.expired) throw this.deadlineError(what);
  }

  /**
   * Runs `fn` holding the in-process locks `keys` (taken in sorted order, so two callers never
   * deadlock); waiting stops at the deadline with `IssuerDeadlineError`. Keys are global: scope
   * them with `accountKey` where a resource id is only unique within an account.
   */
  async serialize<T>(keys: readonly string[], what: string, fn: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.sessions.acquire(key, this.signal, () => this.deadlineError(what)));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** `resource` scoped to this session's account (`aws:…/node/i-1`). */
  accountKey(resource: string): string {
    return `${this.account}/${resource}`;
  }
}

/** A session for code that runs outside a hook call (tools, direct issuer tests): no deadline. */
export function unboundedSession(sessions = new Sessions()): HookSession {
  return sessions.begin({ signal: new AbortController().signal, deadline: Number.POSITIVE_INFINITY, budgetMs: Number.POSITIVE_INFINITY });
}
