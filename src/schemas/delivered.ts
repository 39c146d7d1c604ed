/**
 * Objects as Metacontroller delivers them, whose stored spec may violate today's schema (it was
 * stored before a CRD rule existed, or the CRD was installed after it). Such an object is a hook
 * request all the same: it gets a status condition naming the field (reason `InvalidSpec`), never
 * an HTTP 400, which Metacontroller would retry forever while the user sees no status at all.
 * These readers take what is valid and nothing else; they never throw.
 */
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { isValid, schemaProblem } from './check.js';
import { KubeObject } from './kubernetes.js';
import { RoutedIPSpecSchema, type IssuerKind, type RoutedIPSpec } from './routed-ip.js';

/**
 * A RoutedIP as delivered (parent or related): `metadata` is checked, `spec` and `status` are read
 * defensively. A request without an object `metadata.name` is not a Metacontroller hook request.
 */
export const DeliveredRoutedIPSchema = KubeObject(Type.Unknown(), Type.Unknown());
export type DeliveredRoutedIP = Static<typeof DeliveredRoutedIPSchema>;

/** `spec.issuerRef` when it is valid, else undefined. */
export function issuerRefOf(spec: unknown): { readonly name: string; readonly kind: IssuerKind } | undefined {
  const ref = validFields(RoutedIPSpecSchema, spec).issuerRef;
  return ref ? { name: ref.name, kind: ref.kind ?? 'RoutedIPIssuer' } : undefined;
}

/**
 * The own properties of `value` that each satisfy their property schema in `schema`; invalid
 * and unknown ones are left out. Cross-field rules are not checked.
 */
export function validFields<T extends TObject>(schema: T, value: unknown): Partial<Static<T>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    if (!Object.hasOwn(value, key)) continue;
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined && isValid(property, v)) out[key] = v;
  }
  return out as Partial<Static<T>>;
}

/** A RoutedIP spec read from a delivered object. */
export interface ReadSpec {
  /** The spec when it is wholly valid. */
  readonly spec?: RoutedIPSpec;
  /** The first violation, naming the field (`spec.issuerRef.name: ...`). */
  readonly problem?: string;
  /** The valid fields only (issuerRef absent when it is invalid): enough for customize and finalize. */
  readonly validParts: Partial<RoutedIPSpec>;
  /**
   * The spec names an address to adopt, valid or not. Finalize must treat such an IP as adopted
   * (unassign, never release) even when the field itself is unreadable.
   */
  readonly adopts: boolean;
}

/** Reads `spec` of a delivered RoutedIP. */
export function readRoutedIPSpec(spec: unknown): ReadSpec {
  const adopts = typeof spec === 'object' && spec !== null && Object.hasOwn(spec, 'address') && (spec as { address?: unknown }).address !== undefined;
  if (spec === undefined || spec === null) return { problem: 'spec: required', validParts: {}, adopts };
  const problem = schemaProblem(RoutedIPSpecSchema, spec, 'spec');
  if (problem === undefined) return { spec: spec as RoutedIPSpec, validParts: spec as RoutedIPSpec, adopts };
  return { problem, validParts: validFields(RoutedIPSpecSchema, spec), adopts };
}
