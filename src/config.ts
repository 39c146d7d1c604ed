/**
 * Service configuration from the environment — the only place that reads `process.env`.
 * Invalid values stop the process at start with a message naming the variable.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_READ_CACHE_SECONDS } from './issuers/session.js';
import { DEFAULT_POLICY, endpointHost, type IssuerPolicy } from './reconcile/policy.js';
import { DEFAULT_ORPHAN_GRACE_SECONDS } from './plan/orphans.js';

/** Validated configuration. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Bearer token required on hook calls; undefined = no authentication (not for production). */
  readonly hookToken?: string;
  readonly logLevel: string;
  /** Values that must never be shown: the hook token and ambient AWS credentials from the environment. */
  readonly knownSecrets: readonly string[];
  /** Largest accepted request body; a sync with 5,000 related Nodes is 15-70 MiB (test/bench/payload.ts). */
  readonly bodyLimit: number;
  /** Bytes of hook calls in the service at once (first byte to answer) across connections; at least `bodyLimit`. Calls that do not fit wait unread. */
  readonly maxBytesInFlight: number;
  /** A request body must be complete this long after its headers. */
  readonly bodyTimeoutMs: number;
  /**
   * What issuers may make the operator do: ISSUER_ENDPOINT_HOSTS (endpoint overrides, default
   * none), ISSUER_AMBIENT_CREDENTIALS_NAMESPACES (ambient AWS identity for namespaced issuers,
   * default none; `*` = all), OPERATOR_NAMESPACE (Secrets of ClusterRoutedIPIssuers, default
   * routedip-system).
   */
  readonly issuerPolicy: IssuerPolicy;
  /** MEMORY_PROVIDER: `enabled` (default: demos, tests) or `disabled` (the shipped Deployment). */
  readonly memoryProvider: boolean;
  /**
   * Metacontroller's hook timeout, seconds: must equal the CompositeController's
   * `hooks.*.webhook.timeout`. Each sync stops starting cloud work 2 s before it.
   */
  readonly hookTimeoutSeconds: number;
  /**
   * CLUSTER_NAME: this cluster's identity, marked on every address the operator creates (AWS tag,
   * Hetzner label) and in every firewall rule mark it writes (`issuers/marks.ts`), so that one
   * cluster never touches another's rules, nor its sweep another's addresses or rules, in a shared
   * account. Unset: no cluster mark, and the sweep only reports.
   */
  readonly clusterName?: string;
  /** ORPHAN_GRACE_SECONDS: how long an address must stay seen orphaned and unassociated before the sweep releases it (default 600). */
  readonly orphanGraceSeconds: number;
  /**
   * CLOUD_READ_CACHE_SECONDS: how long one cloud list answer serves every converged sync of an
   * account (default 60; 0 = every sync reads). Drift made in the cloud console is noticed
   * within this plus the resync period (docs/design.md "Sizing").
   */
  readonly readCacheSeconds: number;
}

/** A cluster name is a tag value on AWS and a label value on Hetzner: the label-value rule fits both. */
const CLUSTER_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$/;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A comma-separated list, trimmed, empty items dropped. */
const list = (raw: string | undefined): string[] => (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

/** ISSUER_ENDPOINT_HOSTS: host names or IP addresses (IPv6 with or without brackets), no ports or paths. */
function endpointHosts(env: NodeJS.ProcessEnv): Set<string> {
  return new Set(
    list(env.ISSUER_ENDPOINT_HOSTS).map((entry) => {
      const bare = entry.replace(/^\[(.*)\]$/, '$1');
      const host = /[/@?#\s]/.test(bare) ? undefined : endpointHost(`http://${bare.includes(':') ? `[${bare}]` : bare}/`);
      if (host === undefined) {
        throw new Error(`ISSUER_ENDPOINT_HOSTS must list host names or IP addresses (no ports, no paths) separated by commas, got ${JSON.stringify(entry)}`);
      }
      return host;
    }),
  );
}

/** ISSUER_AMBIENT_CREDENTIALS_NAMESPACES: namespaces, or `*`. */
function ambientNamespaces(env: NodeJS.ProcessEnv): Set<string> | '*' {
  const names = list(env.ISSUER_AMBIENT_CREDENTIALS_NAMESPACES);
  if (names.length === 1 && names[0] === '*') return '*';
  for (const n of names) if (!DNS_LABEL.test(n)) throw new Error(`ISSUER_AMBIENT_CREDENTIALS_NAMESPACES must list namespaces (or be *), got ${JSON.stringify(n)}`);
  return new Set(names);
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Reads the configuration; throws with a clear message on invalid values. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const fromFile = env.HOOK_TOKEN_FILE ? readFileSync(env.HOOK_TOKEN_FILE, 'utf8').trim() : undefined;
  const hookToken = (env.HOOK_TOKEN ?? '').trim() || fromFile || undefined;
  const bodyLimit = integer(env, 'BODY_LIMIT_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  const operatorNamespace = env.OPERATOR_NAMESPACE || DEFAULT_POLICY.operatorNamespace;
  if (!DNS_LABEL.test(operatorNamespace)) throw new Error(`OPERATOR_NAMESPACE must be a namespace name, got ${JSON.stringify(operatorNamespace)}`);
  const memory = env.MEMORY_PROVIDER ?? 'enabled';
  if (memory !== 'enabled' && memory !== 'disabled') throw new Error(`MEMORY_PROVIDER must be enabled or disabled, got ${JSON.stringify(memory)}`);
  const memoryProvider = memory === 'enabled';
  const clusterName = (env.CLUSTER_NAME ?? '').trim();
  if (clusterName !== '' && !CLUSTER_NAME.test(clusterName)) {
    throw new Error(`CLUSTER_NAME must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, got ${JSON.stringify(clusterName)}`);
  }
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST ?? '0.0.0.0',
    ...(hookToken ? { hookToken } : {}),
    logLevel,
    knownSecrets: [hookToken, env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN].filter((v): v is string => typeof v === 'string' && v !== ''),
    bodyLimit,
    maxBytesInFlight: integer(env, 'MAX_BODY_BYTES_IN_FLIGHT', Math.max(128 * 1024 * 1024, bodyLimit), bodyLimit, 4 * 1024 * 1024 * 1024),
    bodyTimeoutMs: integer(env, 'BODY_TIMEOUT_SECONDS', 10, 1, 300) * 1000,
    issuerPolicy: { endpointHosts: endpointHosts(env), ambientNamespaces: ambientNamespaces(env), operatorNamespace },
    memoryProvider,
    hookTimeoutSeconds: integer(env, 'HOOK_TIMEOUT_SECONDS', 10, 2, 600),
    ...(clusterName !== '' ? { clusterName } : {}),
    orphanGraceSeconds: integer(env, 'ORPHAN_GRACE_SECONDS', DEFAULT_ORPHAN_GRACE_SECONDS, 60, 7 * 24 * 3600),
    readCacheSeconds: integer(env, 'CLOUD_READ_CACHE_SECONDS', DEFAULT_READ_CACHE_SECONDS, 0, 3600),
  };
}
