/**
 * The e2e cluster's binaries: what they need (Go, kubectl, Metacontroller's source next to the
 * repository), and building or reusing them through `build.sh` (cache outside the repository,
 * keyed by version; see that script for the recipe).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Versions the suite runs (etcd must be >= 3.5.13 for kube-apiserver's watch progress). */
export const VERSIONS = { etcd: 'v3.6.16', kubernetes: 'v1.36.3' } as const;

/** Paths of the binaries. */
export interface Binaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly metacontroller: string;
}

/** Where the inputs are. */
export interface Sources {
  readonly repoRoot: string;
  /** `../shared/vendor/metacontroller` unless `ROUTEDIP_E2E_METACONTROLLER_SRC` says otherwise. */
  readonly metacontroller: string;
  readonly cache: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The default source locations. */
export function sources(env: NodeJS.ProcessEnv = process.env): Sources {
  const repoRoot = path.resolve(here, '..', '..', '..');
  return {
    repoRoot,
    metacontroller: path.resolve(env.ROUTEDIP_E2E_METACONTROLLER_SRC ?? path.join(repoRoot, '..', 'shared', 'vendor', 'metacontroller')),
    cache: env.ROUTEDIP_E2E_CACHE ?? path.join(homedir(), '.cache', 'routedip-e2e'),
  };
}

const onPath = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

/** What is missing to run the suite (empty when nothing is). */
export function missing(s: Sources): string[] {
  const out: string[] = [];
  if (!existsSync(path.join(s.metacontroller, 'pkg', 'cmd', 'metacontroller'))) out.push(`Metacontroller's source (${s.metacontroller})`);
  if (!onPath('go', ['version'])) out.push('Go (the `go` command, >= 1.26.4) to build etcd, kube-apiserver, kube-controller-manager and Metacontroller');
  if (!onPath('kubectl', ['version', '--client'])) out.push('kubectl');
  return out;
}

/** The commit of the Metacontroller source, as its SOURCE.md names it. */
export function metacontrollerCommit(s: Sources): string {
  const commit = /\b[0-9a-f]{40}\b/.exec(readFileSync(path.join(s.metacontroller, 'SOURCE.md'), 'utf8'))?.[0];
  if (!commit) throw new Error(`no commit in ${path.join(s.metacontroller, 'SOURCE.md')}`);
  return commit;
}

/** Builds what is not cached yet (output streamed to this process) and returns the paths. */
export function buildBinaries(s: Sources): Binaries {
  const r = spawnSync('bash', [path.join(here, 'build.sh'), s.metacontroller], {
    stdio: 'inherit',
    env: { ...process.env, ROUTEDIP_E2E_CACHE: s.cache, ETCD_VERSION: VERSIONS.etcd, K8S_VERSION: VERSIONS.kubernetes },
  });
  if (r.status !== 0) throw new Error(`build.sh failed (${r.status ?? r.signal})`);
  return {
    etcd: path.join(s.cache, `etcd-${VERSIONS.etcd}`),
    kubeApiserver: path.join(s.cache, `kube-apiserver-${VERSIONS.kubernetes}`),
    kubeControllerManager: path.join(s.cache, `kube-controller-manager-${VERSIONS.kubernetes}`),
    metacontroller: path.join(s.cache, `metacontroller-${metacontrollerCommit(s).slice(0, 12)}`),
  };
}
