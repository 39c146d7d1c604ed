/**
 * Checking a value against a schema with a message a user can act on: the field's path and what
 * it must be. Used where an invalid object must become a status condition rather than an HTTP 400
 * (objects stored before a CRD rule existed, or delivered beside the one being synced).
 */
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import './formats.js';

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
  if (Value.Check(schema, value)) return undefined;
  const first = Value.Errors(schema, value).First();
  if (!first) return `${prefix}: invalid`;
  const where = `${prefix}${first.path.replaceAll('/', '.')}`;
  return `${where}: ${demand(first.schema as Record<string, unknown>, first.message)}`;
}
