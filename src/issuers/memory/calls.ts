/**
 * The test-facing instruments of the memory cloud (undici MockAgent style): a log of every
 * issuer call and fault injection. Kept apart from the account state so the state stays a plain
 * cloud model.
 */
import type { IssuerError } from '../errors.js';
import type { RoutedIPIssuer } from '../issuer.js';

/** Issuer methods that reach the cloud (`nodeTarget` is pure and never logged). */
export type MemoryMethod = Exclude<keyof RoutedIPIssuer, 'provider' | 'nodeTarget'>;

/** Methods that may change the cloud: what invariant 4 ("zero mutating calls") counts. */
export const WRITE_METHODS: ReadonlySet<MemoryMethod> = new Set<MemoryMethod>([
  'createRoutedIP',
  'assignRoutedIP',
  'unassignRoutedIP',
  'releaseRoutedIP',
  'addRoutedIPFirewallPort',
  'deleteRoutedIPFirewallPort',
  'addRoutedIPFirewallNode',
  'deleteRoutedIPFirewallNode',
]);

/** One issuer call as the cloud saw it. */
export interface MemoryCall {
  /** Issuer `namespace/name`. */
  readonly account: string;
  readonly method: MemoryMethod;
  /** Deterministic summary of the arguments, e.g. `203.0.113.1 -> n2`. */
  readonly args: string;
  /** The method is a write (whether or not it changed anything). */
  readonly mutating: boolean;
  /** The account state changed (false for a no-op write, a read, or a fault before the effect). */
  readonly changed: boolean;
  /** `reason` of the error the caller saw, if any. */
  readonly error?: string;
}

/** Options of `failNext` / `failAlways`. */
export interface FailOptions {
  /** Perform the call's effect, then throw: a lost response (the cloud changed, the caller saw an error). */
  readonly afterEffect?: boolean;
  /** Only calls from this account (`namespace/name`); default: any account. */
  readonly account?: string;
}

interface Fault extends FailOptions {
  readonly method: MemoryMethod;
  readonly error: IssuerError;
  readonly always: boolean;
}

/** Injected faults, consumed in the order they were added. */
export class FaultPlan {
  private faults: Fault[] = [];

  /** The next matching call throws `error` (once). */
  failNext(method: MemoryMethod, error: IssuerError, options: FailOptions = {}): void {
    this.faults.push({ ...options, method, error, always: false });
  }

  /** Every matching call throws `error` until `clear()`. */
  failAlways(method: MemoryMethod, error: IssuerError, options: FailOptions = {}): void {
    this.faults.push({ ...options, method, error, always: true });
  }

  /** Removes every pending fault. */
  clear(): void {
    this.faults = [];
  }

  /** The fault for this call, consuming a one-shot fault. */
  take(account: string, method: MemoryMethod): Fault | undefined {
    const index = this.faults.findIndex((f) => f.method === method && (f.account === undefined || f.account === account));
    const fault = this.faults[index];
    if (fault && !fault.always) this.faults.splice(index, 1);
    return fault;
  }
}
