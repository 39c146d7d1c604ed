/**
 * Reading credentials from the Secrets Metacontroller delivers. Values are returned to the
 * caller only; no message built here contains a value.
 */
import type { Secret } from '../schemas/kubernetes.js';
import { ISSUER_SECRET_LABEL } from '../schemas/routed-ip.js';
import { IssuerAuthError } from './errors.js';

/**
 * `map[key]` when it is the map's own string property, else undefined. Keys come from the user
 * (`tokenSecretRef.key`), and `constructor`, `__proto__`, `toString`… are valid Secret keys: a
 * plain `map[key]` would return an inherited member instead of "absent".
 */
function ownString(map: Record<string, string> | undefined, key: string): string | undefined {
  if (typeof map !== 'object' || map === null || !Object.hasOwn(map, key)) return undefined;
  const value: unknown = map[key];
  return typeof value === 'string' ? value : undefined;
}

/** The value of `key`: `stringData` when non-empty, else `data` decoded and trimmed; '' when absent. */
function valueOf(secret: Secret, key: string): string {
  const plain = ownString(secret.stringData, key);
  if (plain !== undefined && plain !== '') return plain;
  const encoded = ownString(secret.data, key);
  return encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8').trim();
}

/** The delivered Secret `name`, or the `SecretNotFound` error telling the user about the label. */
function delivered(secrets: ReadonlyMap<string, Secret>, namespace: string, name: string): Secret {
  const secret = secrets.get(name);
  if (!secret) {
    throw new IssuerAuthError(
      `Secret ${namespace}/${name} was not delivered: it must exist and carry the label ${ISSUER_SECRET_LABEL} (any value)`,
      'SecretNotFound',
    );
  }
  return secret;
}

/**
 * The decoded value of `key` in Secret `name`. Throws `IssuerAuthError` with reason
 * `SecretNotFound` (the Secret is absent or lacks the label that gets it delivered) or
 * `SecretKeyNotFound`, whose messages tell the user what to fix.
 */
export function readSecretKey(secrets: ReadonlyMap<string, Secret>, namespace: string, name: string, key: string): string {
  const value = valueOf(delivered(secrets, namespace, name), key);
  if (value === '') {
    throw new IssuerAuthError(`Secret ${namespace}/${name} has no non-empty key "${key}"`, 'SecretKeyNotFound');
  }
  return value;
}

/** Like `readSecretKey`, but `undefined` when the key is absent or empty (optional credentials). */
export function readOptionalSecretKey(secrets: ReadonlyMap<string, Secret>, namespace: string, name: string, key: string): string | undefined {
  const value = valueOf(delivered(secrets, namespace, name), key);
  return value === '' ? undefined : value;
}
