/**
 * Checking a value against a schema with a message a user can act on: the field's path and what
 * it must be. Used where an invalid object must become a status condition rather than an HTTP 400
 * (objects stored before a CRD rule existed, or delivered beside the one being synced).
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import './formats.js';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/**
 * True when `value` satisfies `schema`: what TypeBox's `Value.Check` answers, from a check compiled
 * once per schema object. `Value.Check` interprets the schema on every call and builds a RegExp
 * for every `pattern` it meets: the delivered specs and status hints of every hook call were 3 %
 * of a 50-Node /sync (docs/performance.md).
 */
export function isValid<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check.Check(value);
}

const list = (values: readonly unknown[]) => {
  const quoted = values.map(String);
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
};

/** What `schema` demands, in words, for the constraints the CRDs use. */
function demand(schema: Record<string, unknown>, fallback: string): string {
  const anyOf = schema.anyOf as Record<string, unknown>[] | undefined;
  if (anyOf?.every((b) => b.const !== undefined)) return `must be ${list(anyOf.map((b) => b.const))}`;
  const parts: string[] = [];
  if (typeof schema.maxLength === 'number') parts.push(`at most ${schema.maxLength} characters`);
  if (typeof schema.maxItems === 'number') parts.push(`at most ${schema.maxItems} items`);
  if (typeof schema.minItems === 'number') parts.push(`at least ${schema.minItems} item(s)`);
  if (typeof schema.pattern === 'string') parts.push(`matching ${schema.pattern}`);
  if (typeof schema.format === 'string') parts.push(`a valid ${schema.format}`);
  return parts.length > 0 ? `must be ${parts.join(', ')}` : fallback.replace(/^Expected /, 'must be ');
}

/**
 * The first way `value` violates `schema`, as `<prefix><path>: <what it must be>`, or undefined
 * when it is valid. Linear in the size of `value`, and never echoes the offending value (it may
 * be large, or a secret typed into the wrong field).
 */
export function schemaProblem(schema: TSchema, value: unknown, prefix: string): string | undefined {
  if (isValid(schema, value)) return undefined;
  const first = Value.Errors(schema, value).First();
  if (!first) return `${prefix}: invalid`;
  const where = `${prefix}${first.path.replaceAll('/', '.')}`;
  return `${where}: ${demand(first.schema as Record<string, unknown>, first.message)}`;
}
