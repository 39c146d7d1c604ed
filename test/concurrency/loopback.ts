/**
 * The part of a cloud under test that every loopback fake with a token shares (DigitalOcean,
 * Hetzner): faults injected on the wire on the issuer's writes, and the API's rate window moving
 * with Metacontroller's clock (harness.ts).
 */
import type { BaseFault } from '../fakes/loopback.js';
import { clock, type CloudUnderTest } from './harness.js';

/** What such a fake offers: faults per operation, a rate window, a token list, closing. */
interface TokenFake {
  readonly tokens: Set<string>;
  readonly rate: { limit: number; remaining: number; reset: number };
  fault(operationId: string, fault: BaseFault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

/**
 * Lets `token` in, starts the rate window of `windowSeconds` at the run's clock, and returns the
 * fault, clock and closing members of the cloud: a fault on one of `writes` is a 500 or a lost
 * response (applied, then the socket destroyed).
 */
export function loopbackAccount(fake: TokenFake, token: string, writes: readonly string[], windowSeconds: number): Pick<CloudUnderTest, 'injectFault' | 'clearFaults' | 'timePassed' | 'close'> {
  fake.tokens.add(token);
  fake.rate.reset = Math.floor(clock.now / 1000) + windowSeconds;
  return {
    injectFault(d) {
      const lost = d.chance(0.5);
      fake.fault(d.pick(writes), lost ? { lose: true } : { status: 500, message: 'injected: server error' });
      return lost ? 'lost' : 'failure';
    },
    clearFaults: () => fake.clearFaults(),
    timePassed(now) {
      // The API's window as the real one moves: full again once its reset passed.
      if (now >= fake.rate.reset * 1000) Object.assign(fake.rate, { remaining: fake.rate.limit, reset: Math.floor(now / 1000) + windowSeconds });
    },
    close: () => fake.close(),
  };
}
