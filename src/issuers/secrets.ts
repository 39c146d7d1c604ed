/**
 * Reading credentials from the Secrets Metacontroller delivers. Values are returned to the
 * caller only; no message built here contains a value.
 */
import type { Secret } from '../schemas/kubernetes.js';
import { ISSUER_SECRET_LABEL } from '../schemas/routed-ip.js';
import { IssuerAuthError } from './errors.js';

/**
 * The decoded value of `key` in Secret `name`. Throws `IssuerAuthError` with reason
 * `SecretNotFound` (the Secret is absent or lacks the label that gets it delivered) or
 * `SecretKeyNotFound`, whose messages tell the user what to fix.
 */
export function readSecretKey(secrets: ReadonlyMap<string, Secret>, namespace: string, name: string, key: string): string {
  const secret = secrets.get(name);
  if (!secret) {
    throw new IssuerAuthError(
      `Secret ${namespace}/${name} was not delivered: it must exist and carry the label ${ISSUER_SECRET_LABEL} (any value)`,
      'SecretNotFound',
    );
  }
  const plain = secret.stringData?.[key];
  if (plain !== undefined && plain !== '') return plain;
  const encoded = secret.data?.[key];
  const value = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8').trim();
  if (value === '') {
    throw new IssuerAuthError(`Secret ${namespace}/${name} has no non-empty key "${key}"`, 'SecretKeyNotFound');
  }
  return value;
}

/** Like `readSecretKey`, but `undefined` when the key is absent (optional credentials). */
export function readOptionalSecretKey(secrets: ReadonlyMap<string, Secret>, namespace: string, name: string, key: string): string | undefined {
  const secret = secrets.get(name);
  if (!secret) return readSecretKey(secrets, namespace, name, key);
  const value = secret.stringData?.[key] ?? (secret.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key] ?? '', 'base64').toString('utf8').trim());
  return value === '' ? undefined : value;
}
