/**
 * Builds the app for a test (closed at teardown) and posts hook calls through `inject`.
 * Logs go to an in-memory array so tests can assert what was (not) logged.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { LOOPBACK_HOSTS } from '../../src/reconcile/policy.js';
import type { SyncRequest, SyncResponse } from '../../src/schemas/metacontroller.js';

/** Anything with tap's `teardown`. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A test app and the log lines it wrote. */
export interface TestApp {
  readonly app: FastifyInstance;
  readonly logs: string[];
}

/**
 * The production policy with endpoint overrides allowed to loopback, where the fake clouds listen:
 * parsed from ISSUER_ENDPOINT_HOSTS by the production configuration code, like a deployment would.
 */
export const TEST_POLICY = loadConfig({ ISSUER_ENDPOINT_HOSTS: LOOPBACK_HOSTS.join(',') }).issuerPolicy;

/** Builds and readies an app; `logs` collects every log line at debug level and above. */
export async function buildTestApp(t: Teardown, options: Omit<AppOptions, 'logger'>): Promise<TestApp> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = buildApp({ defaultMetrics: false, issuerPolicy: TEST_POLICY, ...options, logger: { level: 'debug', stream } });
  t.teardown(() => app.close());
  await app.ready();
  return { app, logs };
}

/** A hook answer: status code, parsed body and raw payload bytes. */
export interface HookAnswer {
  readonly statusCode: number;
  readonly body: SyncResponse;
  readonly raw: string;
  readonly headers: Record<string, unknown>;
}

async function post(app: FastifyInstance, path: string, payload: unknown, headers: Record<string, string> = {}): Promise<HookAnswer> {
  const res = await app.inject({ method: 'POST', url: path, payload: payload as object, headers });
  return { statusCode: res.statusCode, body: res.json() as SyncResponse, raw: res.payload, headers: res.headers };
}

/** POST /sync. */
export const sync = (app: FastifyInstance, request: SyncRequest, headers?: Record<string, string>) => post(app, '/sync', request, headers);

/**
 * True when the answer recorded a firewall claim and nothing else waits (no create intent): the
 * status write makes Metacontroller sync again at once, and that sync adds what was claimed.
 */
export const recordedClaim = (answer: HookAnswer): boolean =>
  answer.statusCode === 200 &&
  answer.body.status?.createIntent === undefined &&
  (answer.body.status?.steps ?? []).some((s) => s.detail.startsWith('recording ownership of'));

/**
 * POST /sync as Metacontroller does it: `once`, then again while the answer only recorded a
 * firewall claim (its status write triggers the next sync at once), at most twice more. Returns
 * the last answer; `claims` counts the claim-only answers.
 */
export async function syncSettled(once: () => Promise<HookAnswer>): Promise<HookAnswer & { claims: number }> {
  let answer = await once();
  let claims = 0;
  while (recordedClaim(answer) && claims < 2) {
    claims++;
    answer = await once();
  }
  return { ...answer, claims };
}

/**
 * `syncSettled` on a bare request: each answer's status is written back into the parent, as
 * Metacontroller would, so a claim-only first answer is followed by the sync that acts.
 */
export function syncRequestSettled(app: FastifyInstance, request: SyncRequest): Promise<HookAnswer & { claims: number }> {
  let current = request;
  return syncSettled(async () => {
    const answer = await sync(app, current);
    if (answer.statusCode === 200) current = { ...current, parent: { ...current.parent, status: answer.body.status } };
    return answer;
  });
}

/** POST /finalize (sets `finalizing: true`). */
export const finalize = (app: FastifyInstance, request: SyncRequest, headers?: Record<string, string>) =>
  post(app, '/finalize', { ...request, finalizing: true }, headers);

/** A fixed clock that tests can move forward. */
export function testClock(start = '2026-11-23T12:00:00Z') {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}
