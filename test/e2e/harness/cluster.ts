/**
 * The e2e cluster on loopback: etcd, kube-apiserver (token auth, RBAC), kube-controller-manager
 * with only the namespace and garbage-collector controllers (namespace deletion, ownerReference
 * cascades; no kubelet, scheduler, node-lifecycle or endpoint-slice controller, so the scenarios
 * set Node status and write EndpointSlices themselves), the RoutedIP service as its production
 * entry point (`node dist/server.js`), and Metacontroller running outside the cluster with a
 * kubeconfig. `startCluster` starts them in order and returns a handle whose
 * `stop` ends every process it started, newest first.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Agent, request } from 'undici';
import type { Binaries } from './binaries.js';
import { applyManifests } from './manifests.js';
import { freePort, start, waitFor, type Started } from './processes.js';

/** What the scenarios need to reach the cluster (written to `cluster.json`). */
export interface ClusterInfo {
  /** `https://127.0.0.1:<port>` */
  readonly apiServer: string;
  /** Bearer token of a `system:masters` user. */
  readonly token: string;
  readonly kubeconfig: string;
  /** The service's base URL (`http://127.0.0.1:<port>`), for /metrics. */
  readonly serviceUrl: string;
  /** The bearer token Metacontroller sends to the service (from the Secret). */
  readonly hookToken: string;
  /** The Composite/DecoratorControllers applied, `Kind/name`, hooks pointed at the service. */
  readonly controllers: string[];
  /** The kube-controller-manager controllers running. */
  readonly kubeControllers: readonly string[];
  readonly logDir: string;
}

/** A running cluster. */
export interface Cluster {
  readonly info: ClusterInfo;
  readonly processes: readonly Started[];
  stop(): Promise<void>;
}

/** TLS without verification: the API server's certificate is self-signed for this run. */
export const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function healthy(url: string, token?: string): Promise<true | undefined> {
  const res = await request(url, { dispatcher: insecure, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await res.body.text();
  return res.statusCode === 200 && /ok|true/.test(body) ? true : undefined;
}

async function startEtcd(dir: string, bin: string, logDir: string): Promise<{ process: Started; url: string }> {
  for (let attempt = 1; ; attempt++) {
    const [client, peer] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    const p = start('etcd', bin, [
      '--name=e2e', `--data-dir=${path.join(dir, `etcd-${attempt}`)}`,
      `--listen-client-urls=${url}`, `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster=e2e=${peerUrl}`,
      // A throwaway store: durability costs fsyncs the shared CI cores do not have to spare.
      '--unsafe-no-fsync',
    ], { logDir });
    try {
      await waitFor('etcd /health', () => healthy(`${url}/health`), { timeoutMs: 60_000, process: p });
      return { process: p, url };
    } catch (err) {
      await p.stop();
      if (attempt >= 3) throw err;
    }
  }
}

async function startApiServer(dir: string, bin: string, etcdUrl: string, token: string, logDir: string): Promise<{ process: Started; url: string }> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saKey = path.join(dir, 'sa.key');
  writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }));
  const tokens = path.join(dir, 'tokens.csv');
  writeFileSync(tokens, `${token},e2e-admin,e2e-admin,"system:masters"\n`);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    const p = start('kube-apiserver', bin, [
      `--etcd-servers=${etcdUrl}`, `--cert-dir=${path.join(dir, 'pki')}`,
      `--secure-port=${port}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
      '--service-account-issuer=https://kubernetes.default.svc', `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`, `--token-auth-file=${tokens}`,
      '--authorization-mode=RBAC', '--service-cluster-ip-range=10.96.0.0/16',
    ], { logDir });
    try {
      await waitFor('kube-apiserver /readyz', () => healthy(`${url}/readyz`, token), { timeoutMs: 240_000, everyMs: 500, process: p });
      return { process: p, url };
    } catch (err) {
      await p.stop();
      if (attempt >= 3 || !/address already in use/.test(p.tail())) throw err;
    }
  }
}

/** Starts the service on an ephemeral port; its listen line in the log tells which. */
async function startService(repoRoot: string, hookToken: string, logDir: string, env: NodeJS.ProcessEnv): Promise<{ process: Started; url: string }> {
  const p = start('routedip-service', process.execPath, [path.join(repoRoot, 'dist', 'server.js')], {
    logDir,
    cwd: repoRoot,
    // The fake clouds listen on loopback: allowed as endpoint hosts the way an operator would allow them.
    env: { ISSUER_ENDPOINT_HOSTS: '127.0.0.1,localhost,::1', ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', HOOK_TOKEN: hookToken, LOG_LEVEL: 'info' },
  });
  const url = await waitFor('the service to listen', async () => /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(p.tail(100_000))?.[1], { timeoutMs: 30_000, process: p });
  await waitFor('service /readyz', () => healthy(`${url}/readyz`), { timeoutMs: 10_000, process: p });
  return { process: p, url };
}

/** kube-controller-manager's controllers here: namespace deletion and ownerReference cascades. */
export const KUBE_CONTROLLERS = ['namespace-controller', 'garbage-collector-controller'] as const;

/** Starts kube-controller-manager (no serving port: nothing needs its metrics or health). */
async function startControllerManager(bin: string, kubeconfigFile: string, logDir: string): Promise<Started> {
  const p = start('kube-controller-manager', bin, [
    `--kubeconfig=${kubeconfigFile}`, `--controllers=${KUBE_CONTROLLERS.join(',')}`,
    '--leader-elect=false', '--secure-port=0',
  ], { logDir });
  // It logs each controller as it starts; the namespace controller is the one scenarios wait for.
  await waitFor('kube-controller-manager to start the namespace controller', async () =>
    (/Start[^\n]*namespace/i.test(p.tail(200_000)) ? true : undefined), { timeoutMs: 120_000, everyMs: 500, process: p });
  return p;
}

function kubeconfig(file: string, server: string, token: string): void {
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config', 'current-context: e2e',
    'clusters:', `- name: e2e`, `  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
    'users:', `- name: e2e`, `  user: {token: "${token}"}`,
    'contexts:', `- name: e2e`, `  context: {cluster: e2e, user: e2e}`, '',
  ].join('\n'));
}

/** Options of `startCluster`. */
export interface ClusterOptions {
  readonly repoRoot: string;
  readonly binaries: Binaries;
  /** Metacontroller's CRD manifest. */
  readonly metacontrollerCrds: string;
  /** A fresh directory for data, keys and logs. */
  readonly dir: string;
  /** Extra environment for the service. */
  readonly serviceEnv?: NodeJS.ProcessEnv;
  readonly log?: (line: string) => void;
}

/** Starts the cluster; on any failure stops what it already started and rethrows. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { dir, binaries } = options;
  const log = options.log ?? (() => undefined);
  const logDir = path.join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const processes: Started[] = [];
  const stop = async () => {
    for (const p of [...processes].reverse()) await p.stop();
  };
  try {
    const token = randomBytes(24).toString('hex');
    const hookToken = randomBytes(24).toString('hex');
    const kubeconfigFile = path.join(dir, 'kubeconfig');

    let t0 = Date.now();
    const etcd = await startEtcd(dir, binaries.etcd, logDir);
    processes.push(etcd.process);
    log(`etcd ready at ${etcd.url} in ${Date.now() - t0} ms`);

    t0 = Date.now();
    const [api, service] = await Promise.all([
      startApiServer(dir, binaries.kubeApiserver, etcd.url, token, logDir).then((r) => (processes.push(r.process), r)),
      startService(options.repoRoot, hookToken, logDir, options.serviceEnv ?? {}).then((r) => (processes.push(r.process), r)),
    ]);
    kubeconfig(kubeconfigFile, api.url, token);
    log(`kube-apiserver ready at ${api.url} in ${Date.now() - t0} ms; service at ${service.url}`);

    t0 = Date.now();
    processes.push(await startControllerManager(binaries.kubeControllerManager, kubeconfigFile, logDir));
    log(`kube-controller-manager (${KUBE_CONTROLLERS.join(', ')}) started in ${Date.now() - t0} ms`);

    t0 = Date.now();
    const controllers = await applyManifests({ repoRoot: options.repoRoot, kubeconfig: kubeconfigFile, metacontrollerCrds: options.metacontrollerCrds, serviceUrl: service.url, hookToken });
    log(`applied Metacontroller's CRDs, manifests/ and ${controllers.join(', ')} in ${Date.now() - t0} ms`);

    const mc = start('metacontroller', binaries.metacontroller, [
      '--discovery-interval=5s', '--metrics-address=0', '--health-probe-bind-address=0', '--pprof-address=0',
    ], { logDir, env: { ...process.env, KUBECONFIG: kubeconfigFile } });
    processes.push(mc);

    const info: ClusterInfo = { apiServer: api.url, token, kubeconfig: kubeconfigFile, serviceUrl: service.url, hookToken, controllers, kubeControllers: KUBE_CONTROLLERS, logDir };
    writeFileSync(path.join(dir, 'cluster.json'), JSON.stringify(info, null, 2));
    return { info, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
