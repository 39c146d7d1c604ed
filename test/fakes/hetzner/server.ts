/**
 * A stateful fake of the Hetzner Cloud API on loopback (`http://127.0.0.1:<port>/v1`).
 *
 * Every request is checked against Hetzner's API description
 * (`../shared/specs/hetzner/openapi.json`: parameters and body) and every answer the fake sends
 * is checked too; each mismatch is kept in `violations` (a request the spec rejects is answered
 * 400 `invalid_input`), so tests assert `violations` is empty. When `../shared` is absent the
 * fake still runs every behaviour and only validation is skipped (`SPEC_ABSENT` says why; in CI a missing description throws).
 * Besides the project model it adds what the real API does to a client: bearer auth (401),
 * `RateLimit-*` headers and 429 `rate_limit_exceeded`, and injected faults per operation (an
 * error, a delay, or a "lost response": the change is made, then the socket is destroyed).
 * `calls` logs every mutating request in order.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { OpenApiSpec, specAbsence, type Json } from '../openapi.js';
import { ApiError, HetznerModel, type ModelOptions } from './model.js';
import { route, ROUTES } from './routes.js';
import { LoopbackFake, type BaseFault } from '../loopback.js';

export type { LoggedCall } from '../loopback.js';

/** The description in the shared folder next to the repository. */
export const HETZNER_SPEC_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'specs', 'hetzner', 'openapi.json');

/** A fault injected on an operation (by `operationId`). */
export interface Fault extends BaseFault {
  /** With `status`: the Hetzner error code. */
  readonly code?: string;
  /** Handle the request at once, then wait this long before answering (a stale read). */
  readonly answerDelayMs?: number;
}

/** The project's rate-limit bucket (tests move it by hand). */
export interface RateWindow {
  limit: number;
  remaining: number;
  /** Unix seconds when the bucket is full again. */
  reset: number;
}

/** Why this checkout's fake does not validate against the description (undefined: it does). */
export const SPEC_ABSENT = specAbsence('Hetzner Cloud', HETZNER_SPEC_PATH);

let sharedSpec: OpenApiSpec | undefined;
const loadSpec = (): OpenApiSpec | undefined =>
  SPEC_ABSENT === undefined ? (sharedSpec ??= new OpenApiSpec(JSON.parse(readFileSync(HETZNER_SPEC_PATH, 'utf8')) as { [k: string]: Json }, 'hetzner.json')) : undefined;

/** The fake server. `start()` listens on 127.0.0.1 on a random port. */
export class FakeHetzner extends LoopbackFake<Fault> {
  readonly model: HetznerModel;
  readonly tokens = new Set<string>(['hcloud-test-token']);
  readonly rate: RateWindow = { limit: 3600, remaining: 3600, reset: Math.floor(Date.now() / 1000) + 3600 };
  private readonly spec: OpenApiSpec | undefined;

  constructor(options: Partial<ModelOptions> = {}) {
    super('/v1');
    this.model = new HetznerModel(options);
    this.spec = loadSpec();
  }

  protected hasOperation(operationId: string): boolean {
    return ROUTES.some((r) => r.operationId === operationId);
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    await this.arrive(res);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const pathname = url.pathname.startsWith('/v1/') ? url.pathname.slice(3) : url.pathname;
    const found = route(method, pathname);
    const send = (status: number, body?: unknown) => {
      if (found && this.spec) this.violations.push(...this.spec.checkResponse(method, found.route.template, status, body));
      res.writeHead(status, { ...this.rateHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string) => send(status, { error: { code, message, details: null } });

    if (!found) {
      this.violations.push(`${method} ${url.pathname}: ${this.spec?.operation(method, pathname) ? 'operation not implemented by the fake' : 'no such operation in the spec'}`);
      return error(404, 'not_found', 'not found');
    }
    const op = found.route;
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !this.tokens.has(auth.slice(7))) return error(401, 'unauthorized', 'unable to authenticate');
    if (this.rate.remaining <= 0) return error(429, 'rate_limit_exceeded', 'limit of 3600 requests per hour reached');
    this.rate.remaining--;

    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        this.violations.push(`${method} ${url.pathname}: body is not JSON`);
        return error(400, 'json_error', 'invalid JSON');
      }
      if (!String(req.headers['content-type']).startsWith('application/json')) this.violations.push(`${method} ${url.pathname}: body sent without content-type application/json`);
    }
    const problems = this.spec?.checkRequest(method, op.template, found.params, url.searchParams, body) ?? [];
    if (problems.length > 0) {
      this.violations.push(...problems);
      return error(400, 'invalid_input', problems.join('; '));
    }

    const fault = this.takeFault(op.operationId);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.status !== undefined) {
      if (method !== 'GET') this.calls.push({ operation: op.operationId, method, path: url.pathname, body, status: fault.status, at });
      return error(fault.status, fault.code ?? 'service_error', fault.message ?? `injected ${fault.status}`);
    }
    let status: number;
    let out: unknown;
    try {
      ({ status, body: out } = op.handler(this.model, { params: found.params, query: url.searchParams, body }));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      status = err.status;
      out = { error: { code: err.code, message: err.message, details: null } };
    }
    if (method !== 'GET') this.calls.push({ operation: op.operationId, method, path: url.pathname, body, status: fault?.lose ? 'lost' : status, at });
    if (fault?.lose) {
      res.socket?.destroy();
      return;
    }
    if (fault?.answerDelayMs) await sleep(fault.answerDelayMs);
    send(status, out);
    if (method === 'GET') this.model.tick();
  }

  private rateHeaders(): Record<string, string> {
    return { 'RateLimit-Limit': String(this.rate.limit), 'RateLimit-Remaining': String(Math.max(0, this.rate.remaining)), 'RateLimit-Reset': String(this.rate.reset) };
  }
}
