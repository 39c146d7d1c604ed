/**
 * The one redaction step. Every free-form string that leaves the service — the status of a hook
 * answer, a log line — passes through a `Redactor` (/metrics carries none: its labels are closed
 * sets, see docs/security.md), which removes:
 *   - the values of the credentials in use (each Secret value delivered with the call, the
 *     operator's own ambient credentials and hook token), in clear, base64 and base64url form;
 *   - bearer and basic authorization material, SigV4 material (the Authorization header's
 *     Credential / SignedHeaders / Signature, presigned-URL parameters, security tokens);
 *   - strings shaped like cloud credentials (AWS access key ids, DigitalOcean tokens).
 * A cloud that echoes our request headers back into an error message therefore cannot make a
 * token reach status, logs or metrics. Provider messages are also cut to a bounded length where
 * they enter the service (`IssuerError`), so an echo cannot grow the status either.
 *
 * The per-call redactor is carried by AsyncLocalStorage, so the root logger's hook finds the
 * Secret values of the hook call it is logging for without every log call passing them along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What replaces removed material. */
export const REDACTED = '[REDACTED]';

/** Values shorter than this are not removed by value (they would blank ordinary words). */
export const MIN_SECRET_LENGTH = 8;

/** Material recognised by shape, whoever's it is. Order matters: whole headers before parts. */
const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // SigV4 Authorization header, whole or in part.
  [/AWS4-HMAC-SHA256\s+[^\n"'<>]*/gi, `AWS4-HMAC-SHA256 ${REDACTED}`],
  [/\b(Credential|SignedHeaders|Signature)=[^\s,&"'<>]+/gi, `$1=${REDACTED}`],
  // Presigned-URL parameters and security-token headers.
  [/\b(X-Amz-(?:Signature|Credential|Security-Token|SignedHeaders))(["']?\s*[=:]\s*["']?)[^\s,&"'<>]+/gi, `$1$2${REDACTED}`],
  // Bearer / Basic authorization material.
  [/\b(Bearer|Basic)(\s+|["']?\s*[:=]\s*["']?)[A-Za-z0-9._~+/=-]+/gi, `$1$2${REDACTED}`],
  // AWS access key ids (long-term AKIA, temporary ASIA, and the other IAM unique-id prefixes).
  [/\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|APKA|ABIA|ACCA)[A-Z0-9]{12,}\b/g, REDACTED],
  // DigitalOcean personal access, OAuth and refresh tokens.
  [/\bdo[opr]_v1_[A-Za-z0-9]{16,}\b/g, REDACTED],
];

/**
 * One scan that tells apart the strings no pattern above can change: every match of every pattern
 * contains one of these literals (case aside). Most strings of a status or a log line contain none
 * and skip the six scans (the redaction walk of a status was 2 % of a 50-Node /sync). A pattern
 * added above needs its literal here; the redaction tests run every pattern's sample alone.
 */
const MAY_MATCH = /aws4-hmac-sha256|credential=|signedheaders=|signature=|x-amz-|bearer|basic|akia|asia|aida|aroa|agpa|anpa|anva|aipa|apka|abia|acca|do[opr]_v1_/i;

/** The forms a secret value can take in an echoed message. */
function formsOf(value: string): string[] {
  const forms = [value, value.trim(), Buffer.from(value, 'utf8').toString('base64'), Buffer.from(value, 'utf8').toString('base64url')];
  return forms.filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/** Removes credentials from strings; immutable, `with` makes a redactor that knows more values. */
export class Redactor {
  readonly #raw: readonly string[];
  /** Every form of every value, longest first, so a value that contains another goes whole. */
  readonly #forms: readonly string[];

  /** `values`: secret values to remove wherever they appear (short ones are ignored). */
  constructor(values: Iterable<string> = []) {
    this.#raw = [...values].filter((v) => typeof v === 'string');
    const all = new Set<string>();
    for (const v of this.#raw) for (const f of formsOf(v)) all.add(f);
    // Matched as literal substrings, never compiled into one RegExp: a hostile Secret value (70,000
    // characters, say) made that RegExp throw before the call's redaction was in place, and the
    // error logged then carried every value of the call.
    this.#forms = [...all].sort((a, b) => b.length - a.length);
  }

  /** A redactor that also removes `values`. */
  with(values: Iterable<string>): Redactor {
    return new Redactor([...this.#raw, ...values]);
  }

  /** `text` without credential material. */
  text(text: string): string {
    let out = text;
    for (const form of this.#forms) if (out.includes(form)) out = out.replaceAll(form, REDACTED);
    if (MAY_MATCH.test(out)) for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }

  /**
   * A copy of `value` with every string (keys left as they are) passed through `text`. Walks
   * plain objects and arrays only; an Error becomes `{ type, message, stack }` redacted, and any
   * other class instance (a request, a socket) is left for the logger's serializers.
   */
  deep<T>(value: T, depth = 0): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (typeof value !== 'object' || value === null || depth > 16) return value;
    if (value instanceof Error) {
      return { type: value.name, message: this.text(value.message), ...(value.stack ? { stack: this.text(value.stack) } : {}) } as T;
    }
    if (Array.isArray(value)) return value.map((v: unknown) => this.deep(v, depth + 1)) as T;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.deep(v, depth + 1);
    return out as T;
  }
}

/**
 * Every value of every Secret delivered with a hook call, decoded and as delivered: the
 * credentials an issuer may use are among them, and none of them belongs in any output.
 */
export function secretValues(secrets: Iterable<{ data?: Record<string, string>; stringData?: Record<string, string> }>): string[] {
  const values: string[] = [];
  for (const secret of secrets) {
    for (const [, v] of Object.entries(secret.stringData ?? {})) if (typeof v === 'string') values.push(v);
    for (const [, v] of Object.entries(secret.data ?? {})) {
      if (typeof v !== 'string') continue;
      values.push(v, Buffer.from(v, 'base64').toString('utf8'));
    }
  }
  return values;
}

const scope = new AsyncLocalStorage<Redactor>();

/** Runs `fn` with `redactor` as the current one (for the log hook below). */
export const withRedactor = <T>(redactor: Redactor, fn: () => T): T => scope.run(redactor, fn);

/** The redactor of the current hook call, else `fallback`. */
export const currentRedactor = (fallback: Redactor): Redactor => scope.getStore() ?? fallback;

/**
 * pino `hooks.logMethod` that passes every argument of every log call (message, merge object,
 * error) through the current call's redactor, or the process-wide `base` one outside a call.
 */
export function redactingLogMethod(base: Redactor) {
  return function logMethod(this: unknown, args: unknown[], method: (...a: unknown[]) => void): void {
    const redactor = currentRedactor(base);
    method.apply(this, args.map((a) => redactor.deep(a)));
  };
}
