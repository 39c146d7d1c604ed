/**
 * One log line per HTTP call, written when its response closes — finished, or abandoned by the
 * client (Metacontroller's hook timeout) — in place of Fastify's two per-request lines
 * ("incoming request", "request completed"), which cost as much as the rest of a small sync's
 * logging and said less. The line carries what an operator needs: method, url, status code,
 * duration in ms, `aborted` when the client went away before the answer was sent, and what the hook reports about
 * its outcome (the RoutedIP, Ready and its reason, the steps that did something).
 *
 * Hook calls log at info as `<hook> done`; probes and /metrics at debug as `request done`.
 * The line passes through the call's own redactor (the values of the Secrets it delivered),
 * like every line written while the call ran.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { withRedactor, type Redactor } from '../redaction.js';

/** What a hook reports about its call, for the call's log line. */
export interface CallOutcome {
  /** `namespace/name` of the RoutedIP the call was about. */
  readonly routedip?: string;
  /** The Ready condition's status and reason. */
  readonly ready?: string;
  readonly reason?: string;
  /** `Step=outcome` of every step that was not skipped. */
  readonly steps?: readonly string[];
}

/**
 * Fastify's request logging without its two per-request lines (`logCallOnClose` writes the one
 * line instead); its error lines ("request errored", stream and serializer errors) stay.
 */
export class CallLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
  }
}

/** Writes `request`'s one log line when its response closes; `hook` is its hook name (undefined: not a hook). */
export function logCallOnClose(request: FastifyRequest, reply: FastifyReply, hook: string | undefined): void {
  reply.raw.once('close', () => {
    const fields = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      ...(reply.raw.writableEnded ? {} : { aborted: true }),
      ...request.callOutcome,
    };
    const write = () => (hook === undefined ? request.log.debug(fields, 'request done') : request.log.info(fields, `${hook} done`));
    if (request.callRedactor) withRedactor(request.callRedactor, write);
    else write();
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** What the hook reported about this call (`logCallOnClose` logs it). */
    callOutcome?: CallOutcome;
    /** This call's redactor, when it has one of its own (it delivered Secrets). */
    callRedactor?: Redactor;
  }
}
