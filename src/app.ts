/**
 * The app factory: a Fastify instance with the Metacontroller hooks, probes and metrics, built
 * from explicit dependencies (issuer registry, clock, logger) so tests and the server share it.
 * Listening is the server's business (`server.ts`), not the app's.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IssuerRegistry } from './issuers/registry.js';
import { DEFAULT_POLICY, type IssuerPolicy } from './reconcile/policy.js';
import { Sessions } from './issuers/session.js';
import { createMetrics, type Metrics } from './metrics.js';
import { AJV_FORMATS, KUBERNETES_KEYWORDS } from './schemas/formats.js';
import { customizeRoutes } from './hooks/customize.js';
import { healthRoutes } from './hooks/health.js';
import { syncRoutes } from './hooks/sync.js';
import { Redactor, redactingLogMethod } from './redaction.js';
import { nodeRoutes } from './hooks/node.js';
import { serviceRoutes } from './hooks/service.js';
import { issuerRoutes } from './hooks/issuer.js';
import { secretRoutes } from './hooks/secret.js';
import { IssuerCheckCache } from './reconcile/issuer-status.js';
import { SweepListingCache } from './reconcile/orphans.js';
import { guardedBody, UploadBudget } from './uploads.js';
import { CallLogController, logCallOnClose } from './hooks/call-log.js';
import { bindingChildLoggerFactory } from './child-logger.js';
import { jsonBodyParser, type StringBodyParser } from './json-body.js';

/** Options of `buildApp`. */
export interface AppOptions {
  readonly registry: IssuerRegistry;
  /** What issuers may make the operator do (src/config.ts); default: no endpoint overrides, no ambient credentials for namespaced issuers. */
  readonly issuerPolicy?: IssuerPolicy;
  /** Fastify logger option; `false` (default) for silence, `{ level, stream }` in tests. */
  readonly logger?: FastifyServerOptions['logger'];
  /**
   * Secret values known to the process (the hook token, ambient cloud credentials) that must
   * never appear in status, logs or metrics; each call adds the Secrets it delivers.
   */
  readonly knownSecrets?: readonly string[];
  readonly clock?: () => Date;
  /** When set, hook calls must carry `Authorization: Bearer <hookToken>`. */
  readonly hookToken?: string;
  /** Largest request body in bytes (default 64 MiB; test/bench/payload.ts: 5,000 Nodes are 15-70 MiB). */
  readonly bodyLimit?: number;
  /**
   * Bytes of hook calls in the service at once, from their first byte until answered, across
   * connections (default 128 MiB); a call that does not fit waits unread (src/uploads.ts).
   */
  readonly maxBytesInFlight?: number;
  /** A request body must be received within this many ms of its headers (default 10,000). */
  readonly bodyTimeoutMs?: number;
  /** Hook calls served at once; beyond it the hook answers 429 (default 64). */
  readonly maxInFlight?: number;
  /** Collect process metrics (default true; tests turn it off). */
  readonly defaultMetrics?: boolean;
  /**
   * Metacontroller's hook timeout in seconds (the CompositeController's `webhook.timeout`,
   * default 10). Each sync/finalize stops starting cloud work at `hookDeadlineMs` of it.
   */
  readonly hookTimeoutSeconds?: number;
  /** Locks and per-account state (tests pass one to inspect it); one per app by default. */
  readonly sessions?: Sessions;
  /** This cluster's identity (CLUSTER_NAME), marked on created addresses; the orphan sweep releases only addresses marked with it. */
  readonly clusterName?: string;
  /** ORPHAN_GRACE_SECONDS (default 600). */
  readonly orphanGraceSeconds?: number;
  /**
   * How long a cloud list answer serves an account's converged syncs, seconds
   * (CLOUD_READ_CACHE_SECONDS; default 60; 0 = no storing, reads in flight still shared).
   * Ignored when `sessions` is given.
   */
  readonly readCacheSeconds?: number;
}

/**
 * The deadline of a hook call that reaches the cloud (sync, finalize, the issuer check): 2 s below the hook timeout (at least 1 s), so the call cut
 * at the deadline unwinds and its answer reaches Metacontroller before it gives up.
 */
export const hookDeadlineMs = (hookTimeoutSeconds: number): number => Math.max(1000, hookTimeoutSeconds * 1000 - 2000);

/** Metacontroller's default hook timeout, seconds. */
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 10;

/**
 * The routes that are not Metacontroller hooks (probes and metrics, GET, unauthenticated). Every
 * other route is a hook: authenticated, body-bounded, counted against the in-flight limit and in
 * the hook metrics. Fail-closed on purpose: a hand-kept list of hooks once missed /clusterissuer/*,
 * which then took calls without the bearer token.
 */
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/** Whether the matched route `path` (`routeOptions.url`; undefined for no route) is a hook. */
const isHook = (path: string | undefined): path is string => path !== undefined && path !== '' && !OPEN_PATHS.has(path);
const digest = (s: string) => createHash('sha256').update(s).digest();
/** The default body limit: 5,000 Nodes are 15-70 MiB (test/bench/payload.ts). */
const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;
/** Two calls at the default body limit may be in the service at once; more wait for room. */
const DEFAULT_MAX_BYTES_IN_FLIGHT = 128 * 1024 * 1024;
/** Metacontroller gives up on a hook call after its `timeout` (10 s by default): a slower body is nobody's live call. */
const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/** Builds the app; call `ready()` (or `inject`/`listen`) before use and `close()` after. */
export function buildApp(options: AppOptions): FastifyInstance {
  const redactor = new Redactor(options.knownSecrets ?? []);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    // Every log line passes through the redaction step (src/redaction.ts).
    logger: typeof options.logger === 'object' && options.logger !== null ? { ...options.logger, hooks: { logMethod: redactingLogMethod(redactor) } } : (options.logger ?? false),
    // One line per call, when it closes (src/hooks/call-log.ts), instead of Fastify's two.
    logController: new CallLogController(),
    // The per-request logger adds \`reqId\` to the lines it writes instead of being a pino child (src/child-logger.ts).
    childLoggerFactory: bindingChildLoggerFactory,
    bodyLimit,
    // Requests are whole Kubernetes objects: keep every field, never coerce a wrong type into a right one.
    // The schemas carry the CRDs' Kubernetes annotations and formats (one source of truth): ajv
    // must know them to compile the schemas, and checks the formats as the API server does.
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, keywords: [...KUBERNETES_KEYWORDS], formats: { ...AJV_FORMATS } },
    },
    // `__proto__` and `constructor` are valid Secret data keys: a delivered Secret may carry
    // them, so they are dropped while parsing (no pollution) rather than failing the whole call.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    requestTimeout: 30_000,
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Fastify's JSON parser behind a cheaper test for prototype keys (src/json-body.ts).
  const fastifyJsonParser = app.getDefaultJsonParser('remove', 'remove') as StringBodyParser;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonBodyParser(fastifyJsonParser));

  const expected = options.hookToken ? digest(`Bearer ${options.hookToken}`) : undefined;
  const maxInFlight = options.maxInFlight ?? 64;
  let inFlight = 0;

  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const uploads = new UploadBudget(options.maxBytesInFlight ?? DEFAULT_MAX_BYTES_IN_FLIGHT, bodyTimeoutMs);
  const metrics: Metrics = createMetrics(options.defaultMetrics ?? true, uploads);

  // Authentication comes first, before a single body byte is read.
  app.addHook('onRequest', async (request, reply) => {
    const path = request.routeOptions.url;
    if (options.logger) logCallOnClose(request, reply, isHook(path) ? path.slice(1) : undefined);
    if (!isHook(path)) return;
    if (expected && !timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      return reply.code(401).send({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'missing or wrong bearer token' });
    }
  });
  // A hook call's bytes count against the bytes-in-flight bound until it is answered; a call that
  // does not fit waits unread, and its body must arrive in time (src/uploads.ts).
  app.addHook('preParsing', async (request, reply, payload) => {
    if (!isHook(request.routeOptions.url)) return payload;
    const declared = Number(request.headers['content-length'] ?? NaN);
    // Fastify answers 413 to a declared length over the limit without reading a byte.
    if (declared > bodyLimit) return payload;
    const bytes = Number.isSafeInteger(declared) && declared >= 0 ? declared : bodyLimit;
    return guardedBody(payload, uploads, bytes, (release) => reply.raw.once('close', release));
  });
  // A hook slot is taken once the body is in and valid: a client trickling its upload holds none.
  app.addHook('preHandler', async (request, reply) => {
    const path = request.routeOptions.url;
    if (!isHook(path)) return;
    if (inFlight >= maxInFlight) {
      metrics.throttled.inc({ hook: path.slice(1) });
      return reply.code(429).header('retry-after', '1').send({ statusCode: 429, code: 'OVERLOADED', error: 'Too Many Requests', message: `more than ${maxInFlight} hook calls in flight` });
    }
    inFlight += 1;
    metrics.inFlight.set(inFlight);
    // Fastify runs no onResponse for a call whose client went away (Metacontroller's hook timeout
    // closes the connection), so the slot is given back on the response's 'close', which Node
    // emits for finished and aborted responses alike; `release` makes sure it happens once.
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      inFlight -= 1;
      metrics.inFlight.set(inFlight);
    };
    reply.raw.once('close', release);
    request.releaseSlot = release;
  });
  app.addHook('onResponse', async (request, reply) => {
    request.releaseSlot?.();
    const path = request.routeOptions.url;
    if (!isHook(path)) return;
    const hook = path.slice(1);
    metrics.hookRequests.inc({ hook, code: String(reply.statusCode) });
    metrics.hookDuration.observe({ hook }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string; validation?: unknown }, request, reply) => {
    // 4xx (a bad request, a body too large, too slow or not in time) are answered as such.
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (statusCode === 500) request.log.error({ err: error }, 'unhandled error');
    // A 500 says nothing about internals (no Node error codes such as ERR_INVALID_ARG_TYPE).
    const code = statusCode === 500 ? 'INTERNAL' : error.validation ? 'INVALID_REQUEST' : (error.code ?? 'BAD_REQUEST');
    const message = statusCode === 500 ? 'internal error' : error.message;
    return reply.code(statusCode).send({ statusCode, code, error: statusCode === 500 ? 'Internal Server Error' : 'Bad Request', message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  const policy = options.issuerPolicy ?? DEFAULT_POLICY;
  const deps = { registry: options.registry, clock: options.clock ?? (() => new Date()), policy, ...(options.clusterName !== undefined ? { cluster: options.clusterName } : {}) };
  const sessions =
    options.sessions ?? new Sessions({ now: () => deps.clock().getTime(), ...(options.readCacheSeconds !== undefined ? { readCacheSeconds: options.readCacheSeconds } : {}) });
  const deadlineMs = hookDeadlineMs(options.hookTimeoutSeconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS);
  app.register(syncRoutes, { deps, metrics, redactor, sessions, deadlineMs });
  app.register(customizeRoutes, { operatorNamespace: policy.operatorNamespace });
  app.register(nodeRoutes);
  app.register(serviceRoutes);
  const sweep = { listings: new SweepListingCache(), ...(options.orphanGraceSeconds !== undefined ? { orphanGraceSeconds: options.orphanGraceSeconds } : {}) };
  app.register(issuerRoutes, { deps: { ...deps, cache: new IssuerCheckCache(), ...sweep }, redactor, sessions, deadlineMs, metrics });
  app.register(secretRoutes, { operatorNamespace: policy.operatorNamespace });
  app.register(healthRoutes, { metrics, saturated: () => inFlight >= maxInFlight });
  return app;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Gives the call's in-flight slot back (idempotent); set on counted hook calls. */
    releaseSlot?: () => void;
  }
}
