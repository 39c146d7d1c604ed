/**
 * Validates requests and responses against DigitalOcean's official OpenAPI description
 * (`../shared/specs/digitalocean/openapi.yaml`, a tag-filtered bundle; never copied into this
 * repository). The fake calls `checkRequest` on every request it receives and `checkResponse`
 * on every answer it sends, so a request our issuer sends that the spec rejects, or an answer
 * of the fake that a real client could not rely on, fails the test that caused it.
 *
 * OpenAPI 3.0 is not JSON Schema: `nullable` is mapped onto `type: [..., 'null']`, examples and
 * vendor keywords are dropped, and the bundle's one defect (the `firewall` schema's `allOf`
 * holds a `null` where the filtered bundle lost the base model) is repaired by dropping the null.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** The spec in the shared folder next to the repository (`<repo>/../shared/specs/...`). */
export const DIGITALOCEAN_SPEC_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..', '..', '..', '..', 'shared', 'specs', 'digitalocean', 'openapi.yaml',
);

/**
 * Why requests and answers go unvalidated in this checkout, or undefined when the spec is there.
 * Only a checkout without `../shared` lacks it; CI always has it, so there a missing spec throws.
 */
export function specAbsence(file = DIGITALOCEAN_SPEC_PATH): string | undefined {
  if (existsSync(file)) return undefined;
  if (process.env.CI === 'true') throw new Error(`the DigitalOcean OpenAPI spec is missing at ${file} (CI must validate against it)`);
  return `DigitalOcean OpenAPI spec not found at ${file}: requests and answers are not validated`;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const DROP = new Set(['example', 'examples', 'x-codeSamples', 'discriminator', 'xml', 'externalDocs', 'deprecated', 'readOnly', 'writeOnly']);

/** OpenAPI 3.0 schema → JSON Schema (draft-07 flavour Ajv understands). */
function toJsonSchema(node: Json): Json {
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

/**
 * The filtered bundle lost the base of the `firewall` model (its `allOf` starts with `null`), so
 * firewall ids, names, status and `pending_changes` would go unchecked. This restores them as
 * upstream `specification/resources/firewalls/models/firewall.yml` describes them.
 */
function repairFirewallModel(doc: { [k: string]: Json }): void {
  const schemas = (doc.components as { [k: string]: { [k: string]: { [k: string]: Json } } }).schemas;
  const firewall = schemas?.firewall;
  if (!firewall || !Array.isArray(firewall.allOf)) return;
  firewall.allOf = [
    {
      type: 'object',
      properties: {
        id: { type: 'string' },
        status: { type: 'string', enum: ['waiting', 'succeeded', 'failed'] },
        created_at: { type: 'string', format: 'date-time' },
        pending_changes: {
          type: 'array',
          items: { type: 'object', properties: { droplet_id: { type: 'integer' }, removing: { type: 'boolean' }, status: { type: 'string' } } },
        },
        name: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9\\.-]+$' },
        droplet_ids: { type: ['array', 'null'], items: { type: 'integer' } },
        tags: { type: ['array', 'null'], items: { type: 'string' } },
      },
    },
    ...firewall.allOf,
  ];
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

/** The compiled spec: operation lookup and request/response validators. */
export class DigitalOceanSpec {
  private readonly ajv: Ajv;
  private readonly doc: { [k: string]: Json };
  private readonly operations: Operation[] = [];
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(file = DIGITALOCEAN_SPEC_PATH) {
    const raw = parse(readFileSync(file, 'utf8')) as { [k: string]: Json };
    this.doc = toJsonSchema(raw) as { [k: string]: Json };
    repairFirewallModel(this.doc);
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema(this.doc, 'do.json');
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
      v = this.ajv.compile({ $ref: `do.json${pointer}` });
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
    for (const { node: p, pointer } of declared) {
      const name = String(p.name);
      const raw = p.in === 'path' ? params[name] : p.in === 'query' ? query.get(name) ?? undefined : undefined;
      if (p.in !== 'path' && p.in !== 'query') continue;
      if (raw === undefined) {
        if (p.required === true) out.push(`${method} ${template}: missing ${p.in} parameter ${name}`);
        continue;
      }
      const schema = p.schema as { type?: string } | undefined;
      const value = schema?.type === 'integer' || schema?.type === 'number' ? (/^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw) : raw;
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
    const key = responses[String(status)] !== undefined ? String(status) : 'default';
    const declared = responses[key];
    const what = `${method} ${template} response ${status}`;
    if (declared === undefined) return [`${what}: status not declared`];
    if (key === 'default' && status < 400) return [`${what}: success status not declared`];
    const { node, pointer } = this.resolve(declared, `${o.pointer}/responses/${key}`);
    const content = node.content as { [k: string]: Json } | undefined;
    if (content?.['application/json'] === undefined) return body === undefined ? [] : [`${what}: the spec declares no body`];
    if (body === undefined) return [`${what}: missing body`];
    return this.check(`${pointer}/content/application~1json/schema`, body, what);
  }
}
