/**
 * Validates requests and responses of a fake cloud API against that cloud's OpenAPI 3.0
 * description (read from `../shared/specs/...`; never copied into this repository). Each fake
 * calls `checkRequest` on every request it receives and `checkResponse` on every answer it
 * sends, so a request an issuer sends that the spec rejects, or an answer of the fake that a
 * real client could not rely on, fails the test that caused it.
 *
 * OpenAPI 3.0 is not JSON Schema: `nullable` is mapped onto `type: [..., 'null']`, examples and
 * vendor keywords are dropped. Array query parameters (`?status=a&status=b`) are validated as
 * arrays. Responses may be declared per status (`201`), per class (`4xx`) or as `default`.
 */
import { existsSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Why requests and answers of `cloud`'s fake go unvalidated in this checkout, or undefined when
 * its description `file` is there. Only a checkout without `../shared` lacks it; CI always has
 * it, so there a missing description throws.
 */
export function specAbsence(cloud: string, file: string): string | undefined {
  if (existsSync(file)) return undefined;
  if (process.env.CI === 'true') throw new Error(`the ${cloud} API description is missing at ${file} (CI must validate against it)`);
  return `${cloud} API description not found at ${file}: requests and answers are not validated`;
}

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const DROP = new Set(['example', 'examples', 'x-codeSamples', 'discriminator', 'xml', 'externalDocs', 'deprecated', 'readOnly', 'writeOnly']);

/** OpenAPI 3.0 schema → JSON Schema (draft-07 flavour Ajv understands). */
export function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.filter((n) => n !== null).map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROP.has(k) || k.startsWith('x-')) continue;
    out[k] = k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, toJsonSchema(s)]))
      : toJsonSchema(v);
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else return { anyOf: [out, { type: 'null' }] };
  } else delete out.nullable;
  return out;
}

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  readonly paramNames: string[];
  readonly pointer: string;
  readonly op: { [k: string]: Json };
}

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** What a check found: empty when the exchange conforms. */
export type Violations = string[];

/** A compiled OpenAPI description: operation lookup and request/response validators. */
export class OpenApiSpec {
  private readonly ajv: Ajv;
  private readonly doc: { [k: string]: Json };
  private readonly operations: Operation[] = [];
  private readonly cache = new Map<string, ValidateFunction>();

  /** `raw` is the parsed description; `repair` may fix known defects of the converted document. */
  constructor(raw: { [k: string]: Json }, private readonly id: string, repair?: (doc: { [k: string]: Json }) => void) {
    this.doc = toJsonSchema(raw) as { [k: string]: Json };
    repair?.(this.doc);
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    // Hetzner prices are decimal strings (`"1.0000"`).
    this.ajv.addFormat('decimal', /^-?\d+(\.\d+)?$/);
    this.ajv.addSchema(this.doc, id);
    const paths = this.doc.paths as { [p: string]: { [m: string]: Json } };
    for (const [template, item] of Object.entries(paths)) {
      const paramNames: string[] = [];
      const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
        paramNames.push(name);
        return '([^/]+)';
      });
      for (const [method, op] of Object.entries(item)) {
        if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
        this.operations.push({
          method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), paramNames,
          pointer: `#/paths/${escapePointer(template)}/${method}`, op: op as { [k: string]: Json },
        });
      }
    }
    // Literal segments win over parameters (`/floating_ips/actions` before `/floating_ips/{id}`).
    this.operations.sort((a, b) => a.paramNames.length - b.paramNames.length);
  }

  /** The operation for `method path`, or undefined when the spec has none (a 404 in the fake). */
  operation(method: string, pathname: string): { template: string; params: Record<string, string>; operationId: string } | undefined {
    for (const o of this.operations) {
      if (o.method !== method) continue;
      const m = o.pattern.exec(pathname);
      if (!m) continue;
      const params = Object.fromEntries(o.paramNames.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')]));
      return { template: o.template, params, operationId: String(o.op.operationId) };
    }
    return undefined;
  }

  private find(method: string, template: string): Operation {
    const o = this.operations.find((x) => x.method === method && x.template === template);
    if (!o) throw new Error(`no operation ${method} ${template}`);
    return o;
  }

  private validator(pointer: string): ValidateFunction {
    let v = this.cache.get(pointer);
    if (!v) {
      v = this.ajv.compile({ $ref: `${this.id}${pointer}` });
      this.cache.set(pointer, v);
    }
    return v;
  }

  private resolve(node: Json, pointer: string): { node: { [k: string]: Json }; pointer: string } {
    let cur = node as { [k: string]: Json };
    let ptr = pointer;
    while (typeof cur.$ref === 'string') {
      ptr = cur.$ref;
      cur = ptr.slice(2).split('/').reduce<Json>((acc, seg) => (acc as { [k: string]: Json })[seg.replace(/~1/g, '/').replace(/~0/g, '~')] ?? null, this.doc) as { [k: string]: Json };
    }
    return { node: cur, pointer: ptr };
  }

  private check(pointer: string, value: unknown, what: string): Violations {
    const v = this.validator(pointer);
    if (v(value)) return [];
    return (v.errors ?? []).map((e) => `${what}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }

  /** Checks path/query parameters and the JSON body of a request. */
  checkRequest(method: string, template: string, params: Record<string, string>, query: URLSearchParams, body: unknown): Violations {
    const o = this.find(method, template);
    const out: Violations = [];
    const declared = ((o.op.parameters as Json[] | undefined) ?? []).map((p, i) => this.resolve(p, `${o.pointer}/parameters/${i}`));
    const scalar = (type: string | undefined, raw: string): unknown => (type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    for (const { node: p, pointer } of declared) {
      if (p.in !== 'path' && p.in !== 'query') continue;
      const name = String(p.name);
      const schema = p.schema as { type?: string; items?: { type?: string } } | undefined;
      const present = p.in === 'path' ? params[name] !== undefined : query.has(name);
      if (!present) {
        if (p.required === true) out.push(`${method} ${template}: missing ${p.in} parameter ${name}`);
        continue;
      }
      const value = schema?.type === 'array'
        ? query.getAll(name).map((raw) => scalar(schema.items?.type, raw))
        : scalar(schema?.type, p.in === 'path' ? params[name]! : query.get(name)!);
      out.push(...this.check(`${pointer}/schema`, value, `${method} ${template} ${p.in} ${name}`));
    }
    const rb = o.op.requestBody;
    if (rb !== undefined) {
      const { node, pointer } = this.resolve(rb, `${o.pointer}/requestBody`);
      const content = node.content as { [k: string]: Json } | undefined;
      if (content?.['application/json'] !== undefined) {
        if (body === undefined) {
          if (node.required === true) out.push(`${method} ${template}: missing request body`);
        } else out.push(...this.check(`${pointer}/content/application~1json/schema`, body, `${method} ${template} request body`));
      }
    } else if (body !== undefined && method !== 'GET') {
      out.push(`${method} ${template}: the spec declares no request body`);
    }
    return out;
  }

  /** Checks a response status and JSON body against the operation's declared responses. */
  checkResponse(method: string, template: string, status: number, body: unknown): Violations {
    const o = this.find(method, template);
    const responses = o.op.responses as { [k: string]: Json };
    const byClass = `${String(status)[0]}XX`;
    const key = [String(status), byClass, byClass.toLowerCase(), 'default'].find((k) => responses[k] !== undefined);
    const what = `${method} ${template} response ${status}`;
    if (key === undefined) return [`${what}: status not declared`];
    if (key === 'default' && status < 400) return [`${what}: success status not declared`];
    const { node, pointer } = this.resolve(responses[key]!, `${o.pointer}/responses/${key}`);
    const content = node.content as { [k: string]: Json } | undefined;
    if (content?.['application/json'] === undefined) return body === undefined ? [] : [`${what}: the spec declares no body`];
    if (body === undefined) return [`${what}: missing body`];
    return this.check(`${pointer}/content/application~1json/schema`, body, what);
  }
}
