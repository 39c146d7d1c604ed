/**
 * Hook request bodies, from their first byte until their answer is sent (issue 7 item 6, issue 10).
 *
 * Memory: a hook call's cost grows with its body (a 28 MiB body of 5,000 Nodes is its Buffers,
 * their string and the parsed objects, all alive until the answer), so the budget counts each
 * call's bytes for its whole life, not only while they arrive. Admission by backpressure:
 * - a call claims its declared length (`content-length`; the body limit when none is declared)
 *   before a byte of its body is read. When the claim does not fit under `maxBytesInFlight`, the
 *   call WAITS with its socket unread (TCP flow control holds the bytes in the client) until
 *   answered calls free enough, instead of being refused: a burst of large legitimate syncs
 *   (Metacontroller runs `--workers`, 5 by default, per controller) is served a few at a time
 *   within bounded memory. Waiting calls that fit are admitted in arrival order, a smaller one
 *   passing a larger head only until the head has waited `slowAfterMs` (so it cannot starve);
 * - the body timeout (`bodyTimeoutMs`, from the headers: waiting counts) still bounds every call:
 *   Metacontroller has given up on a call by then, so it is answered 408 and its place freed;
 * - slow clients never starve Metacontroller's calls: while a call waits, an admitted upload that
 *   is SLOW gives way (408 `BODY_TOO_SLOW`: only a slow upload ever gives way), oldest first. Slow: still being received half the
 *   body timeout after its admission, and either nothing of it arrived for a quarter of the body
 *   timeout (stalled) or less of it arrived than its share of the body timeout elapsed (behind
 *   the pace that finishes in time; a trickle). A Metacontroller call of tens of MiB arrives in
 *   well under a second on a cluster network; on a saturated replica it arrives late because the
 *   service reads it late, but it arrives in every turn of the event loop and on pace, so it does
 *   not give way. The check runs after the event loop has read what sockets hold. Calls whose
 *   body is in (being parsed or served) never give way: the hook deadline bounds them;
 * - hook slots (app.ts) are taken only once a body is in, so trickling clients hold none.
 */
import { performance } from 'node:perf_hooks';
import { Transform, type Readable } from 'node:stream';

/** An HTTP error that Fastify's error handler answers with its status code. */
class UploadError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/** One call's place in the budget. */
interface Claim {
  /** Bytes counted: the declared length until the body is in, then its real length. */
  bytes: number;
  state: 'waiting' | 'receiving' | 'received' | 'gone';
  /** When it began waiting (`waiting`) or was admitted (`receiving`), ms. */
  since: number;
  /** Bytes of its body arrived so far, and when the last of them did, ms. */
  arrived: number;
  lastArrival: number;
  readonly admit: () => void;
  readonly abort: (err: UploadError) => void;
}

/** The bound on bytes of hook calls in the service (received or arriving), and who waits for room. */
export class UploadBudget {
  private readonly waiting: Claim[] = [];
  /** Admitted claims, in admission order (Set order = age). */
  private readonly admitted = new Set<Claim>();
  private held = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Uploads that gave way to a waiting call, since start. */
  aborted = 0;

  /** How long an admitted upload may take before it can be found slow, and a waiting head be passed: half the body timeout. */
  readonly slowAfterMs: number;

  /** `maxBytesInFlight`: the bound; `bodyTimeoutMs`: the time a body has from its headers. */
  constructor(
    readonly maxBytesInFlight: number,
    readonly bodyTimeoutMs: number,
  ) {
    this.slowAfterMs = bodyTimeoutMs / 2;
  }

  /** Bytes of admitted calls now counted. */
  get bytesInFlight(): number {
    return this.held;
  }

  /** Calls waiting for room. */
  get waitingCalls(): number {
    return this.waiting.length;
  }

  /**
   * Claims `bytes` (capped at the bound, so every claim fits once the service is empty). `admit`
   * is called once they are counted, possibly at once; `abort` if the upload must give way.
   */
  claim(bytes: number, admit: () => void, abort: (err: UploadError) => void): Claim {
    const now = performance.now();
    const claim: Claim = { bytes: Math.min(bytes, this.maxBytesInFlight), state: 'waiting', since: now, arrived: 0, lastArrival: now, admit, abort };
    this.waiting.push(claim);
    this.pump();
    return claim;
  }

  /** `bytes` more of the claim's body arrived. */
  arrivedBytes(claim: Claim, bytes: number): void {
    claim.arrived += bytes;
    claim.lastArrival = performance.now();
  }

  /** The claim's body is in, `bytes` long: it counts those until released, and never gives way. */
  received(claim: Claim, bytes: number): void {
    if (claim.state !== 'receiving') return;
    claim.state = 'received';
    const counted = Math.min(bytes, claim.bytes);
    this.held -= claim.bytes - counted;
    claim.bytes = counted;
    this.pump();
  }

  /** The call is answered, failed or gone: its bytes (or its place in line) are free. Idempotent. */
  release(claim: Claim): void {
    if (claim.state === 'gone') return;
    this.drop(claim);
    this.pump();
  }

  private drop(claim: Claim): void {
    if (claim.state === 'waiting') this.waiting.splice(this.waiting.indexOf(claim), 1);
    else if (this.admitted.delete(claim)) this.held -= claim.bytes;
    claim.state = 'gone';
  }

  /**
   * Admits what fits; with `evict` (the timer's turn, after the event loop read the sockets),
   * while calls still wait, makes slow uploads give way; re-arms the timer.
   */
  private pump(evict = false): void {
    for (;;) {
      this.admitWhatFits();
      if (this.waiting.length === 0 || !evict) break;
      const slow = this.slowUpload();
      if (slow === undefined) break;
      this.drop(slow);
      this.aborted += 1;
      slow.abort(new UploadError('request body arriving too slowly (stalled, or behind the pace that finishes within the body timeout) while other calls wait: it gave way', 408, 'BODY_TOO_SLOW'));
    }
    this.arm();
  }

  private admitWhatFits(): void {
    const now = performance.now();
    const head = this.waiting[0];
    const headIsOld = head !== undefined && now - head.since >= this.slowAfterMs;
    for (let i = 0; i < this.waiting.length; ) {
      const claim = this.waiting[i]!;
      if (this.held + claim.bytes > this.maxBytesInFlight) {
        if (i === 0 && headIsOld) return;
        i += 1;
        continue;
      }
      this.waiting.splice(i, 1);
      claim.state = 'receiving';
      claim.since = now;
      claim.lastArrival = now;
      this.held += claim.bytes;
      this.admitted.add(claim);
      claim.admit();
    }
  }

  /** Whether `claim` is an upload being received slowly (see the module's doc). */
  private isSlow(claim: Claim, now: number): boolean {
    if (claim.state !== 'receiving' || now - claim.since < this.slowAfterMs) return false;
    const stalled = now - claim.lastArrival >= this.bodyTimeoutMs / 4;
    const behindPace = claim.arrived < (claim.bytes * (now - claim.since)) / this.bodyTimeoutMs;
    return stalled || behindPace;
  }

  /** The oldest slow upload. */
  private slowUpload(): Claim | undefined {
    const now = performance.now();
    for (const claim of this.admitted) if (this.isSlow(claim, now)) return claim;
    return undefined;
  }

  /**
   * While calls wait and uploads are being received, wakes when the oldest of those may first be
   * slow, and then every tenth of that while it is not. The check runs in the next check phase
   * (`setImmediate`), after the poll phase has read what the sockets hold: an upload the service
   * itself was too busy to read is not taken for a stalled one.
   */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length === 0) return;
    let oldest: Claim | undefined;
    for (const claim of this.admitted) {
      if (claim.state === 'receiving') {
        oldest = claim;
        break;
      }
    }
    if (oldest === undefined) return;
    const due = oldest.since + this.slowAfterMs - performance.now();
    this.timer = setTimeout(() => setImmediate(() => this.pump(true)), Math.max(due, this.slowAfterMs / 10));
    this.timer.unref();
  }
}

/**
 * Wraps a hook request's body stream: claims `bytes` of `budget` and reads nothing from `raw`
 * until admitted; fails with 408 unless the body is complete within the budget's `bodyTimeoutMs`
 * (waiting included). `onGone` gets the release to call when the response closes (any outcome): the bytes
 * count until then.
 */
export function guardedBody(raw: Readable, budget: UploadBudget, bytes: number, onGone: (release: () => void) => void): Transform {
  const { bodyTimeoutMs } = budget;
  let received = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      budget.arrivedBytes(claim, chunk.length);
      callback(null, chunk);
    },
    flush(callback) {
      clearTimeout(timer);
      budget.received(claim, received);
      callback();
    },
  });
  const claim = budget.claim(
    bytes,
    () => raw.pipe(counted),
    (err) => counted.destroy(err),
  );
  const timer = setTimeout(
    () => counted.destroy(new UploadError(`request body not received within ${bodyTimeoutMs / 1000} s`, 408, 'BODY_TIMEOUT')),
    bodyTimeoutMs,
  );
  timer.unref();
  // A body that failed (timeout, gave way, client gone) will never be parsed: free it at once.
  counted.once('close', () => {
    clearTimeout(timer);
    if (counted.errored) budget.release(claim);
  });
  onGone(() => {
    clearTimeout(timer);
    budget.release(claim);
  });
  return counted;
}
