/**
 * Per-key mutual exclusion inside one process: the Hetzner issuer serializes every
 * read-modify-write of one Firewall's rules (`set_rules` replaces them whole), so two RoutedIPs
 * sharing a Firewall, synced concurrently, never write a rule list that lost the other's rule.
 *
 * This is the one place the Hetzner issuer locks; it belongs in the per-account session module
 * (docs/STYLE.md §9) once that exists — the issuer only sees the `KeyedLock` interface.
 * A lock is held only for the duration of `fn`; every call `fn` makes has a request timeout, so
 * nothing waits forever, and a failing `fn` releases the lock like a successful one.
 */

/** Runs functions one at a time per key. */
export interface KeyedLock {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** An in-process `KeyedLock` (a promise chain per key, dropped when idle). */
export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<unknown>>();
  return {
    async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(fn, fn);
      const tail = result.then(() => undefined, () => undefined);
      tails.set(key, tail);
      try {
        return await result;
      } finally {
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}
