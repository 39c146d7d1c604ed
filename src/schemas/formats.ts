/**
 * The string formats the CRDs use beyond JSON Schema's own, with the API server's meaning, for
 * every validator of the service: TypeBox's `Value.Check` (registered here, on import) and the
 * hooks' ajv (`AJV_FORMATS`, handed to Fastify by the app).
 */
import { isIP } from 'node:net';
import { FormatRegistry } from '@sinclair/typebox';

/** Go's `net.ParseCIDR` acceptance: an IPv4 or IPv6 address, a slash and a prefix length in range. */
export function isCIDR(value: string): boolean {
  const match = /^([^/]{1,45})\/(\d{1,3})$/.exec(value);
  if (!match) return false;
  const family = isIP(match[1] ?? '');
  const bits = Number(match[2]);
  return family !== 0 && bits <= (family === 4 ? 32 : 128);
}

/** Dotted-quad IPv4, as Kubernetes' `ipv4` format takes it. */
export const isIPv4 = (value: string): boolean => isIP(value) === 4;

/** Format name → check, for ajv's `formats` option. */
export const AJV_FORMATS: Readonly<Record<string, (value: string) => boolean>> = { cidr: isCIDR, ipv4: isIPv4 };

/**
 * Schema keywords that are Kubernetes annotations (CEL rules, list and map types): meaningful to
 * the API server, ignored by the service's validators, which must still accept them.
 */
export const KUBERNETES_KEYWORDS = ['x-kubernetes-validations', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type'] as const;

for (const [name, check] of Object.entries(AJV_FORMATS)) if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
