/**
 * A stateful fake of the DigitalOcean API on loopback, for the real dots-wrapper/axios client.
 *
 * Every request is checked against the official OpenAPI description (parameters and body) and
 * every answer the fake sends is checked too; each mismatch is kept in `violations` (and a
 * request the spec rejects is answered 400, as `prism proxy --errors` would), so tests assert
 * `violations` is empty. Besides the account model it adds what a real API does to a client:
 * bearer auth (401), rate-limit headers and 429 with `retry-after`, and injected faults per
 * operation (an error status, a delay, or a "lost response": the change is made, then the
 * socket is destroyed before the answer). `calls` logs every mutating request in order.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, DigitalOceanModel, type ModelOptions } from './model.js';
import { matchOperation, OUTSIDE_BUNDLE } from './operations.js';
import { ROUTES } from './routes.js';
import { DigitalOceanSpec, specAbsence } from './spec.js';
import { LoopbackFake, type BaseFault } from '../loopback.js';

export type { LoggedCall } from '../loopback.js';

/** A fault injected on an operation (by spec `operationId`). */
export interface Fault extends BaseFault {
  /** With status 429: the `retry-after` header. */
  readonly retryAfter?: number;
}

/** The fake's rate-limit window (the tests move it by hand). */
export interface RateWindow {
  limit: number;
  remaining: number;
  /** Unix seconds when the oldest counted request expires. */
  reset: number;
  /** `retry-after` seconds sent with a 429 of a spent window. */
  retryAfter: number;
}

const ERROR_IDS: Record<number, string> = {
  400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 422: 'unprocessable_entity',
  429: 'too_many_requests', 500: 'server_error', 503: 'service_unavailable',
};

let sharedSpec: DigitalOceanSpec | undefined;

/** Why this checkout's fake does not validate against the spec (undefined: it does). */
export const SPEC_ABSENT = specAbsence();

/** The fake server. `start()` listens on 127.0.0.1 on a random port. */
export class FakeDigitalOcean extends LoopbackFake<Fault> {
  readonly model: DigitalOceanModel;
  readonly tokens = new Set<string>(['do-test-token']);
  readonly rate: RateWindow = { limit: 250, remaining: 250, reset: Math.floor(Date.now() / 1000) + 60, retryAfter: 30 };
  /** Absent in a checkout without `../shared` (see SPEC_ABSENT): then nothing is validated. */
  private readonly spec: DigitalOceanSpec | undefined;

  constructor(options: Partial<ModelOptions> = {}) {
    super('/v2');
    this.model = new DigitalOceanModel(options);
    this.spec = SPEC_ABSENT === undefined ? (sharedSpec ??= new DigitalOceanSpec()) : undefined;
  }

  protected hasOperation(operationId: string): boolean {
    return ROUTES[operationId] !== undefined;
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    await this.arrive(res);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}`);
    const op = matchOperation(method, url.pathname);
    // The Tags API is not in the shared bundle (see OUTSIDE_BUNDLE): routed, not validated.
    const spec = op && OUTSIDE_BUNDLE.has(op.operationId) ? undefined : this.spec;
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      if (op && spec) this.violations.push(...spec.checkResponse(method, op.template, status, body));
      res.writeHead(status, { ...this.rateHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }), ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (status: number, message: string, headers: Record<string, string> = {}) =>
      send(status, { id: ERROR_IDS[status] ?? 'error', message, request_id: 'fake-request' }, headers);

    if (!op || !ROUTES[op.operationId]) {
      const known = this.spec?.operation(method, url.pathname);
      this.violations.push(`${method} ${url.pathname}: ${known ? `operation ${known.operationId} is not implemented by the fake` : this.spec ? 'no such operation in the spec' : 'not an operation the fake implements'}`);
      return error(404, 'The resource you requested could not be found.');
    }
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !this.tokens.has(auth.slice(7))) return error(401, 'Unable to authenticate you.');
    if (this.rate.remaining <= 0) return error(429, 'API Rate limit exceeded.', { 'retry-after': String(this.rate.retryAfter) });
    this.rate.remaining--;

    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        this.violations.push(`${method} ${url.pathname}: body is not JSON`);
        return error(400, 'error parsing request body');
      }
      if (!String(req.headers['content-type']).startsWith('application/json')) this.violations.push(`${method} ${url.pathname}: body sent without content-type application/json`);
    }
    const problems = spec?.checkRequest(method, op.template, op.params, url.searchParams, body) ?? [];
    if (problems.length > 0) {
      this.violations.push(...problems);
      return error(400, problems.join('; '));
    }

    const fault = this.takeFault(op.operationId);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.status !== undefined) {
      if (method !== 'GET') this.calls.push({ operation: op.operationId, method, path: url.pathname, body, status: fault.status, at });
      return error(fault.status, fault.message ?? `injected ${fault.status}`, fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
    }
    let status: number;
    let out: unknown;
    try {
      ({ status, body: out } = ROUTES[op.operationId]!(this.model, { params: op.params, query: url.searchParams, body, base: this.endpoint }));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      status = err.status;
      out = { id: err.id, message: err.message, request_id: 'fake-request' };
    }
    if (method !== 'GET') this.calls.push({ operation: op.operationId, method, path: url.pathname, body, status: fault?.lose ? 'lost' : status, at });
    if (fault?.lose) {
      res.socket?.destroy();
      return;
    }
    send(status, out);
    if (method === 'GET') this.model.tick();
  }

  private rateHeaders(): Record<string, string> {
    return { 'ratelimit-limit': String(this.rate.limit), 'ratelimit-remaining': String(Math.max(0, this.rate.remaining)), 'ratelimit-reset': String(this.rate.reset) };
  }
}
