/**
 * The per-account read cache (STYLE §9: it lives with the session, never inside an issuer).
 *
 * One answer to a list call serves every RoutedIP of the account for `ttlMs`, and calls that
 * ask while a read is in flight share it (coalescing), so cloud reads follow the number of
 * accounts and the TTL, not the sync rate. Correctness never rests on it: a caller asks for
 * `cached` reads only where a stale answer can at worst delay noticing drift (see
 * src/reconcile/sync.ts: a plan made from cached reads may only confirm the previous status;
 * anything else is read again `fresh` before the first write).
 *
 * - `fresh` reads never take a stored answer; they may join a read in flight that started
 *   after the account's last write (it is as fresh as their own would be), and store theirs.
 * - `invalidate()` (after every write of ours, whatever its answer: a failed write may have
 *   taken effect) drops the account's answers and bumps a generation, so a read that was in
 *   flight across the write is neither stored nor joined.
 * - Failures are never stored. A read shared with a call whose deadline cut it short is sent
 *   again by a caller whose own deadline has not passed.
 */

import { untilAborted } from './abort.js';

/** How a read may be served. */
export type ReadMode = 'cached' | 'fresh';

/** Options of a cache. */
export interface ReadCacheOptions {
  /** How long an answer serves `cached` reads. 0 turns storing off (coalescing stays). */
  readonly ttlMs: number;
  /** Clock in ms (the app's clock, so tests move it). */
  readonly now: () => number;
}

/** Counters (bench, tests): what the cache saved. */
export interface ReadCacheStats {
  /** Reads sent to the cloud. */
  fetched: number;
  /** Reads answered from a stored answer. */
  hits: number;
  /** Reads that joined one in flight. */
  joined: number;
}

interface InFlight {
  readonly promise: Promise<unknown>;
  readonly generation: number;
  readonly signal: AbortSignal;
}

/** The cache of one cloud account. Values are shared between calls: callers must not mutate them. */
export class ReadCache {
  private readonly stored = new Map<string, { readonly at: number; readonly value: unknown }>();
  private readonly inFlight = new Map<string, InFlight>();
  private generation = 0;
  readonly stats: ReadCacheStats = { fetched: 0, hits: 0, joined: 0 };

  constructor(private readonly options: ReadCacheOptions) {}

  /**
   * The answer of `fetch` for `key`: stored (when `mode` is `cached` and younger than the TTL),
   * shared with a read in flight, or fetched now. `signal` is the caller's (its deadline):
   * `fetch` must run under it, and waiting on someone else's read stops when it aborts.
   */
  async read<T>(key: string, mode: ReadMode, signal: AbortSignal, fetch: () => Promise<T>, onStored?: () => void): Promise<T> {
    const now = this.options.now();
    const hit = this.stored.get(key);
    if (mode === 'cached' && hit && now - hit.at < this.options.ttlMs) {
      this.stats.hits += 1;
      onStored?.();
      return hit.value as T;
    }
    const running = this.inFlight.get(key);
    if (running && running.generation === this.generation) {
      this.stats.joined += 1;
      try {
        return (await untilAborted(running.promise, signal, () => (signal.reason instanceof Error ? signal.reason : new Error('aborted')))) as T;
      } catch (err) {
        // The read we joined was cut short by its caller's deadline, not ours: read ourselves.
        if (!running.signal.aborted || signal.aborted) throw err;
      }
    }
    return this.fetch(key, signal, fetch);
  }

  private async fetch<T>(key: string, signal: AbortSignal, fetch: () => Promise<T>): Promise<T> {
    const generation = this.generation;
    const promise = fetch();
    const mine: InFlight = { promise, generation, signal };
    this.inFlight.set(key, mine);
    this.stats.fetched += 1;
    try {
      const value = await promise;
      if (generation === this.generation && this.options.ttlMs > 0) this.stored.set(key, { at: this.options.now(), value });
      return value;
    } finally {
      if (this.inFlight.get(key) === mine) this.inFlight.delete(key);
    }
  }

  /**
   * The last answer stored for `key`, whatever its age, or `undefined` (none yet, or dropped by
   * a write of ours). For facts that do not go stale with the TTL, such as which allocation ids
   * carry a RoutedIP's mark (ids are never reused): never for where something is now.
   */
  latest<T>(key: string): T | undefined {
    return this.stored.get(key)?.value as T | undefined;
  }

  /** Forgets every answer (our own write changed the account); reads in flight are not stored. */
  invalidate(): void {
    this.generation += 1;
    this.stored.clear();
    this.inFlight.clear();
  }
}
