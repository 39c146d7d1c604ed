/**
 * Request bodies on their way in (issue 7 item 6). Slow or large uploads must never starve
 * Metacontroller's calls, so:
 * - a body must be received within `bodyTimeoutMs` of its headers, else 408 and the connection
 *   closes (Node's own `requestTimeout` is only checked every 30 s, so a trickling client could
 *   hold a connection and its buffered bytes for up to a minute);
 * - the bytes of bodies still being received are bounded across all connections
 *   (`maxBytesInFlight`). When a chunk would pass the bound, the OLDEST other upload still being
 *   received is aborted with 503: that is a slow client's, because a Metacontroller call of even
 *   tens of MiB arrives in well under a second on a cluster network and is never the oldest for long;
 * - hook slots (app.ts) are taken only once a body is in, so trickling clients hold none.
 * Bodies already received are bounded by the hook slots times the body limit.
 */
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

interface Upload {
  bytes: number;
  readonly abort: (err: UploadError) => void;
}

/** The bound on bytes of bodies being received, and who holds them (Set order = age). */
export class UploadBudget {
  private readonly receiving = new Set<Upload>();
  private held = 0;
  /** Uploads aborted to stay within the bound, since start. */
  aborted = 0;

  constructor(readonly maxBytesInFlight: number) {}

  /** Bytes of bodies now being received. */
  get bytesInFlight(): number {
    return this.held;
  }

  /** Registers an upload; `abort` is called if it must give way. */
  open(abort: (err: UploadError) => void): Upload {
    const upload: Upload = { bytes: 0, abort };
    this.receiving.add(upload);
    return upload;
  }

  /** Accounts `n` more bytes of `upload`, aborting the oldest others while over the bound. */
  take(upload: Upload, n: number): void {
    upload.bytes += n;
    this.held += n;
    for (const other of this.receiving) {
      if (this.held <= this.maxBytesInFlight) break;
      if (other === upload) continue;
      this.close(other);
      this.aborted += 1;
      other.abort(new UploadError(`more than ${this.maxBytesInFlight} request bytes in flight: the oldest upload gave way`, 503, 'UPLOADS_BUSY'));
    }
  }

  /** The upload is received, failed or gone: its bytes no longer count. Idempotent. */
  close(upload: Upload): void {
    if (!this.receiving.delete(upload)) return;
    this.held -= upload.bytes;
  }
}

/**
 * Wraps a request body stream: counts it against `budget`, and fails it with 408 unless it is
 * complete within `bodyTimeoutMs`. `onGone` is called when the response closes (any outcome).
 */
export function guardedBody(raw: Readable, budget: UploadBudget, bodyTimeoutMs: number, onGone: (release: () => void) => void): Transform {
  let upload: Upload | undefined;
  const finish = () => {
    clearTimeout(timer);
    if (upload) budget.close(upload);
  };
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (upload) budget.take(upload, chunk.length);
      callback(null, chunk);
    },
    flush(callback) {
      finish();
      callback();
    },
  });
  upload = budget.open((err) => counted.destroy(err));
  const timer = setTimeout(
    () => counted.destroy(new UploadError(`request body not received within ${bodyTimeoutMs / 1000} s`, 408, 'BODY_TIMEOUT')),
    bodyTimeoutMs,
  );
  timer.unref();
  counted.once('close', finish);
  onGone(finish);
  raw.pipe(counted);
  return counted;
}
