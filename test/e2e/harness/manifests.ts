/**
 * Installs the operator the way the README does — Metacontroller's CRDs, then `kubectl apply -k
 * manifests` — with one change a cluster without a Service network needs: every
 * Composite/DecoratorController hook that names the webhook Service is pointed at the service
 * on loopback instead (`url` = service URL + the hook's path). Everything else (versions,
 * timeouts, `authorization` from the hook-token Secret) is applied as shipped.
 */
import { execFileSync } from 'node:child_process';
import { parseAllDocuments, stringify } from 'yaml';
import type { Json } from '../../manifests/k8s-schema.js';

const CONTROLLER_KINDS = new Set(['CompositeController', 'DecoratorController']);

/** True for a Metacontroller controller object. */
export const isController = (doc: Json): boolean =>
  typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith('metacontroller.k8s.io/') && CONTROLLER_KINDS.has(doc.kind);

/**
 * Returns `docs` with each controller hook's `webhook.service` + `path` replaced by
 * `url: <serviceUrl><path>`. A hook that already has a `url` or names no Service is left alone.
 */
export function pointHooksAt(docs: readonly Json[], serviceUrl: string): Json[] {
  return docs.map((doc) => {
    if (!isController(doc)) return doc;
    const out = structuredClone(doc);
    for (const hook of Object.values((out.spec?.hooks ?? {}) as Record<string, Json>)) {
      const webhook = hook?.webhook as Json | undefined;
      if (!webhook?.service || webhook.url !== undefined) continue;
      webhook.url = `${serviceUrl}${webhook.path ?? ''}`;
      delete webhook.service;
      delete webhook.path;
    }
    return out;
  });
}

/** Runs kubectl against `kubeconfig`; throws with its stderr on failure. */
export function kubectl(kubeconfig: string, args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** Renders `kubectl kustomize <dir>` into objects. */
export function render(dir: string): Json[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(out).map((d) => d.toJS() as Json).filter((d) => d !== null);
}

/** Options of `applyManifests`. */
export interface ApplyOptions {
  readonly repoRoot: string;
  readonly kubeconfig: string;
  readonly metacontrollerCrds: string;
  readonly serviceUrl: string;
  readonly hookToken: string;
}

/** Installs everything; returns the controllers applied as `Kind/name`. */
export async function applyManifests(o: ApplyOptions): Promise<string[]> {
  // Server-side apply: the CRDs are larger than client-side apply's last-applied annotation allows.
  kubectl(o.kubeconfig, ['apply', '--server-side', '-f', o.metacontrollerCrds]);
  const docs = pointHooksAt(render(`${o.repoRoot}/manifests`), o.serviceUrl);
  const controllers = docs.filter(isController);
  const rest = docs.filter((d) => !isController(d));
  kubectl(o.kubeconfig, ['apply', '--server-side', '-f', '-'], rest.map((d) => stringify(d)).join('---\n'));
  kubectl(o.kubeconfig, ['-n', 'routedip-system', 'create', 'secret', 'generic', 'routedip-hook-token', `--from-literal=token=${o.hookToken}`]);
  kubectl(o.kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  kubectl(o.kubeconfig, ['apply', '--server-side', '-f', '-'], controllers.map((d) => stringify(d)).join('---\n'));
  return controllers.map((d) => `${d.kind}/${d.metadata.name}`);
}
