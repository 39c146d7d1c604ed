/**
 * `npm run e2e`: builds (or reuses) etcd, kube-apiserver and Metacontroller, builds the service,
 * starts the cluster on loopback, runs the scenarios in test/e2e/scenarios with tap against it,
 * and stops every process it started — on success, on failure, and on SIGINT/SIGTERM.
 *
 * Without Go, kubectl or Metacontroller's source it says what is missing and exits 0 with
 * everything skipped; with CI=true a missing prerequisite is a failure.
 * Environment: ROUTEDIP_E2E_CACHE (binary cache, default ~/.cache/routedip-e2e),
 * ROUTEDIP_E2E_METACONTROLLER_SRC, ROUTEDIP_E2E_KEEP=1 (keep the run directory with its logs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildBinaries, missing, sources } from './binaries.js';
import { startCluster, type Cluster } from './cluster.js';

const say = (line: string) => console.log(`e2e: ${line}`);
const src = sources();
const ci = process.env.CI === 'true';

const lacking = missing(src);
if (lacking.length > 0) {
  say(`missing ${lacking.join('; ')}`);
  if (ci) {
    say('CI=true: the e2e suite must run');
    process.exit(1);
  }
  say('every e2e scenario is skipped');
  console.log('# { total: 0, pass: 0, skip: 0, fail: 0 }');
  process.exit(0);
}

say(`node ${process.version}`);
const began = Date.now();
const binaries = buildBinaries(src);
say(`binaries ready in ${((Date.now() - began) / 1000).toFixed(1)} s`);
const tsc = spawnSync(process.execPath, [path.join(src.repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: src.repoRoot, stdio: 'inherit' });
if (tsc.status !== 0) {
  say('npm run build failed');
  process.exit(1);
}

const dir = mkdtempSync(path.join(tmpdir(), 'routedip-e2e-'));
let cluster: Cluster | undefined;
let stopping: Promise<void> | undefined;
const stopAll = () => (stopping ??= (cluster?.stop() ?? Promise.resolve()));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping the cluster`);
    void stopAll().then(() => process.exit(130));
  });
}

let code = 1;
try {
  const startedAt = Date.now();
  cluster = await startCluster({
    repoRoot: src.repoRoot,
    binaries,
    metacontrollerCrds: path.join(src.metacontroller, 'manifests', 'production', 'metacontroller-crds-v1.yaml'),
    dir,
    // The scenarios' clouds (the fake DigitalOcean API, moto) listen on loopback: never proxy it.
    serviceEnv: { NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
    log: say,
  });
  say(`cluster up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (logs in ${cluster.info.logDir})`);

  const scenarios = path.join(src.repoRoot, 'test', 'e2e', 'scenarios');
  const files = readdirSync(scenarios).filter((f) => f.endsWith('.e2e.ts')).sort().map((f) => path.join('test', 'e2e', 'scenarios', f));
  const tap = spawn(process.execPath, [
    path.join(src.repoRoot, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'),
    // One scenario file at a time: they share the cluster, and the idle-window counts need quiet.
    '--jobs=1', '--disable-coverage', '--allow-incomplete-coverage', '--timeout=900', ...files,
  ], { cwd: src.repoRoot, stdio: 'inherit', env: { ...process.env, ROUTEDIP_E2E_CLUSTER: path.join(dir, 'cluster.json') } });
  code = await new Promise<number>((resolve) => tap.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  if (code !== 0) {
    for (const p of cluster.processes) say(`--- ${p.name} (${p.log}) ends:\n${p.tail(2000)}`);
  }
} catch (err) {
  say(`the cluster did not start: ${err instanceof Error ? err.message : String(err)}`);
  console.log('# { total: 1, pass: 0, fail: 1 }');
} finally {
  await stopAll();
  say(`stopped; e2e took ${((Date.now() - began) / 1000).toFixed(1)} s`);
  if (code === 0 && process.env.ROUTEDIP_E2E_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  else say(`run directory kept: ${dir}`);
}
process.exit(code);
