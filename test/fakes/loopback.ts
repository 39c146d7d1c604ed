/**
 * What every fake cloud API on loopback shares: listening on 127.0.0.1 on an ephemeral port,
 * closing, the logs tests assert on (spec violations, mutating calls, every request), and faults
 * injected per operation and used up one request at a time. Subclasses parse and answer requests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One mutating request a fake received. */
export interface LoggedCall {
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly status: number | 'lost';
  /** When the request arrived (`Date.now()`), for end-to-end latency figures. */
  readonly at: number;
}

/** What every cloud's injected fault can say; each fake adds its own error fields. */
export interface BaseFault {
  /** Answer this HTTP status with the cloud's error body instead of handling the request. */
  readonly status?: number;
  readonly message?: string;
  /** Wait this long before handling the request. */
  readonly delayMs?: number;
  /** Handle the request, then destroy the socket without answering. */
  readonly lose?: boolean;
  /** How many requests it applies to (default 1). */
  times?: number;
}

/** The base of a fake: `F` is the fault shape of that cloud. */
export abstract class LoopbackFake<F extends { times?: number }> {
  readonly violations: string[] = [];
  readonly calls: LoggedCall[] = [];
  /** Every request, in order. */
  readonly requests: string[] = [];
  /**
   * Every request waits this long before it is handled (a slow API); a function is asked per
   * request, with the request's arrival (ms since epoch): see `slowAcrossDeadline`.
   */
  latencyMs: number | ((arrivedAt: number) => number) = 0;
  /** Requests whose client closed the connection before the answer (an aborted request). */
  abandoned = 0;
  private readonly faults = new Map<string, F[]>();
  private server?: http.Server;
  private base = '';

  /** `pathPrefix` is the API version the base URL ends with (`/v2`, `/v1`). */
  constructor(private readonly pathPrefix: string) {}

  /** The API base URL, including the version prefix. */
  get endpoint(): string {
    return this.base;
  }

  /** Whether the fake implements `operationId`. */
  protected abstract hasOperation(operationId: string): boolean;

  /** Handles one request. */
  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;

  /** Injects `fault` on the operation `operationId`. */
  fault(operationId: string, fault: F): void {
    if (!this.hasOperation(operationId)) throw new Error(`the fake has no operation ${operationId}`);
    // The caller's object is kept (not copied) so a test can read `times` to see it was used up.
    fault.times ??= 1;
    this.faults.set(operationId, [...(this.faults.get(operationId) ?? []), fault]);
  }

  /** Drops every fault not used up yet. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Mutating calls as `METHOD path` (for order assertions). */
  mutations(): string[] {
    return this.calls.map((c) => `${c.method} ${c.path}`);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.pathPrefix}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /**
   * Call first in `handle`: counts the request as abandoned if its client leaves before the
   * answer, then waits `latencyMs`. A slow API still performs a request whose client left
   * meanwhile: a lost response.
   */
  protected async arrive(res: http.ServerResponse): Promise<void> {
    res.on('close', () => {
      if (!res.writableFinished) this.abandoned += 1;
    });
    const wait = typeof this.latencyMs === 'function' ? this.latencyMs(Date.now()) : this.latencyMs;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** The next fault armed on `operation`, used up by this request. */
  protected takeFault(operation: string): F | undefined {
    const list = this.faults.get(operation);
    const f = list?.[0];
    if (!f || !list) return undefined;
    if (--f.times! <= 0) list.shift();
    return f;
  }
}
