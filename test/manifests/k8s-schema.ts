/**
 * Helpers that read the delivery manifests and check objects the way the API server and
 * `kubectl apply` (strict field validation) would, without a cluster:
 * - `schemaValidator` turns a CRD's structural openAPIV3Schema into an ajv validator;
 * - `celViolations` runs the schema's `x-kubernetes-validations` rules with a real CEL evaluator.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { evaluate } from '@marcbachmann/cel-js';
import { parseAllDocuments } from 'yaml';
import { isCIDR } from '../../src/schemas/formats.js';

/** Repository root (this file is test/manifests/k8s-schema.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A loosely typed Kubernetes object or schema node, as parsed from YAML. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** Every YAML document of a file (relative to the repository root, or absolute), empty ones dropped. */
export function readDocs(file: string): Json[] {
  const text = readFileSync(path.resolve(repoRoot, file), 'utf8');
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      return doc.toJS() as Json;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

/** The one document of `file` with this kind (and name, when given). */
export function readDoc(file: string, kind: string, name?: string): Json {
  const found = readDocs(file).filter((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));
  if (found.length !== 1) throw new Error(`${file}: expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}

/** The openAPIV3Schema of a CRD's only version. */
export function crdSchema(crd: Json): Json {
  const versions = crd.spec.versions as Json[];
  if (versions.length !== 1) throw new Error(`${crd.metadata.name}: expected one version`);
  return versions[0].schema.openAPIV3Schema;
}

const ANNOTATIONS = [
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
];

/**
 * The structural schema as JSON Schema for ajv. Objects with `properties` become closed
 * (`additionalProperties: false`) unless they preserve unknown fields: the API server would
 * prune an unknown field silently and `kubectl apply` rejects it, so a typo must fail here too.
 */
export function toJsonSchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, toJsonSchema(v)]));
    else if (key === 'items' || key === 'additionalProperties' || key === 'not') out[key] = typeof value === 'object' ? toJsonSchema(value) : value;
    else if (key === 'allOf' || key === 'anyOf' || key === 'oneOf') out[key] = (value as Json[]).map(toJsonSchema);
    else out[key] = value;
  }
  if (schema['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.properties && out.additionalProperties === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  return out;
}


/** A Go `time.Duration` string as Metacontroller's `timeout` takes it (`10s`, `1m30s`, `500ms`). */
const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

/** An ajv instance that knows the formats and annotation keywords of Kubernetes structural schemas. */
export function kubernetesAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  // ajv-formats is CommonJS with a default export; under NodeNext the callable sits on `.default`.
  const addFormats = ((addFormatsModule as Json).default ?? addFormatsModule) as (a: Ajv, f: string[]) => void;
  addFormats(ajv, ['ipv4', 'ipv6', 'date-time', 'uri', 'byte']);
  ajv.addFormat('cidr', isCIDR);
  ajv.addFormat('duration', GO_DURATION);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  for (const keyword of ANNOTATIONS) ajv.addKeyword({ keyword });
  return ajv;
}

/** A validator for objects of the CRD (apiVersion/kind/metadata/spec/status). */
export function schemaValidator(crd: Json, ajv: Ajv = kubernetesAjv()): ValidateFunction {
  return ajv.compile(toJsonSchema(crdSchema(crd)));
}

/** ajv errors as short `path: message` lines, for readable test output. */
export function errorLines(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}

/** One `x-kubernetes-validations` rule and where it sits. */
export interface CelRule {
  readonly path: string;
  readonly rule: string;
  readonly message?: string;
}

/** Every CEL rule of a schema, with the JSON path of the node that carries it. */
export function celRules(schema: Json, at = ''): CelRule[] {
  if (schema === null || typeof schema !== 'object') return [];
  const own: CelRule[] = ((schema['x-kubernetes-validations'] ?? []) as Json[]).map((r) => ({ path: at || '/', rule: r.rule, message: r.message }));
  const nested = [
    ...Object.entries((schema.properties ?? {}) as Json).flatMap(([k, v]) => celRules(v, `${at}/${k}`)),
    ...(schema.items ? celRules(schema.items, `${at}/*`) : []),
  ];
  return [...own, ...nested];
}

/**
 * The messages of the CEL rules `value` violates, as the API server evaluates them: a rule runs
 * where its node is present; a transition rule (using `oldSelf`) runs only on update and only
 * where the old object has the node too (never inside list items here: our lists are atomic).
 */
export function celViolations(schema: Json, value: Json, old?: Json, hasOld = old !== undefined): string[] {
  if (value === undefined || schema === null || typeof schema !== 'object') return [];
  const out: string[] = [];
  for (const r of (schema['x-kubernetes-validations'] ?? []) as Json[]) {
    const transition = /\boldSelf\b/.test(r.rule);
    if (transition && !hasOld) continue;
    let ok: unknown;
    try {
      ok = evaluate(r.rule, transition ? { self: value, oldSelf: old } : { self: value });
    } catch (err) {
      ok = `error: ${(err as Error).message}`;
    }
    if (ok !== true) out.push(ok === false ? (r.message ?? r.rule) : `${r.rule}: ${String(ok)}`);
  }
  if (schema.properties && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, sub] of Object.entries(schema.properties as Json)) {
      const oldChild = hasOld && old !== null && typeof old === 'object' ? old[key] : undefined;
      out.push(...celViolations(sub, value[key], oldChild, oldChild !== undefined));
    }
  }
  if (schema.items && Array.isArray(value)) for (const item of value) out.push(...celViolations(schema.items, item));
  return out;
}
