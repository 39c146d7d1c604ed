/**
 * The JSON body parser of the service (issue 10, P1): Fastify's own, behind a cheaper test for
 * bodies that cannot hold a `__proto__` or `constructor` key.
 *
 * Fastify's parser (secure-json-parse) runs `JSON.parse` and then two regular expressions over the
 * whole text, which match those keys in any mix of `\uXXXX` escapes; on a converged 50-Node sync
 * they were 6–8 % of the service's CPU (profile.ts). Without a `\u` in the text such a key can only
 * be spelt literally, and then the text must contain `__` (in `__proto__`) or `uctor` (in
 * `constructor`). Those three substrings are searched by V8 with a memchr on their first
 * character, rare in Kubernetes JSON, so a body with none of them costs a few tens of µs to clear
 * and is parsed with `JSON.parse` alone (which links no prototypes: `__proto__` would be an own
 * property). Any other body, and any body `JSON.parse` refuses, goes to Fastify's parser, which
 * removes those keys (app.ts: `onProtoPoisoning` / `onConstructorPoisoning: 'remove'`) and
 * answers the errors Fastify always answered (empty body, invalid JSON).
 */
import type { FastifyRequest } from 'fastify';

/** A body parser in Fastify's callback form, for `parseAs: 'string'` (Fastify's default JSON parser is one). */
export type StringBodyParser = (request: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) => void;

/**
 * Whether `text` may hold a `__proto__` or `constructor` key, literally or escaped. False
 * positives only cost the full check; a false negative would be a hole, so every escape counts.
 */
export const mayHoldPrototypeKey = (text: string): boolean => text.includes('\\u') || text.includes('__') || text.includes('uctor');

/** A body parser that parses bodies clear of `mayHoldPrototypeKey` itself and hands the rest to `fallback`. */
export function jsonBodyParser(fallback: StringBodyParser): StringBodyParser {
  return (request, body, done) => {
    if (body.length === 0 || mayHoldPrototypeKey(body)) return fallback(request, body, done);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      // Fastify's parser words the error (FST_ERR_CTP_INVALID_JSON_BODY) and strips a BOM.
      return fallback(request, body, done);
    }
    done(null, parsed);
  };
}
