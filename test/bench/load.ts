/**
 * The HTTP side of `npm run bench`: the service and the bare Fastify route each run in a child
 * process of their own (so each one's peak RSS is its own), and a small load generator over
 * undici (already a dependency) posts the same payload to either.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Builds dist/ (`npm run build`) unless it is newer than every file of src/. */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(join(ROOT, dir), { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(ROOT, dir, e.name)).mtimeMs)));
  let built = 0;
  try {
    built = statSync(join(ROOT, 'dist/server.js')).mtimeMs;
  } catch {
    built = 0;
  }
  if (built > newest('src')) return;
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/** A server under test. */
export interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  /** Peak resident set size so far (VmHWM), bytes. */
  peakRss(): number;
  /** CPU ms the process used so far, user + system (`/proc/<pid>/stat`, 10 ms ticks). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/**
 * Starts `ours` (the service exactly as `npm start` runs it, from dist/: production
 * configuration, log lines to stdout, here discarded) or `bare` (test/bench/bare.mjs), listening
 * on an ephemeral loopback port. `extraNodeArgs` (e.g. `--cpu-prof`) go to node; `entry` (relative
 * to the project) replaces the kind's script, e.g. another build of the service to compare.
 */
export async function startServer(kind: 'ours' | 'bare', extraNodeArgs: readonly string[] = [], entry = kind === 'ours' ? 'dist/server.js' : 'test/bench/bare.mjs'): Promise<Server> {
  // stdout goes to a file, as a container runtime takes it: a pipe the bench drains only between
  // its own requests would block the server's log writes (stdout pipes are synchronous).
  const logFile = join(mkdtempSync(join(tmpdir(), 'routedip-bench-')), `${kind}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...extraNodeArgs, entry], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', MEMORY_PROVIDER: 'enabled', NODE_ENV: 'production' },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  let url: string | undefined;
  for (let waited = 0; url === undefined; waited += 50) {
    if (exited !== undefined || waited > 60_000) throw new Error(`${kind} server did not start (exit ${exited}): ${readFileSync(logFile, 'utf8').slice(0, 500)}`);
    await sleep(50);
    const seen = readFileSync(logFile, 'utf8');
    url = (/listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(seen) ?? /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(seen))?.[1];
  }
  return {
    url,
    child,
    peakRss: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    cpuMs: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // After "pid (comm) ": state is field 0, utime 11, stime 12, in clock ticks (100 per second on Linux).
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== undefined) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Results of a load run. */
export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  /** Latencies in ms, sorted. */
  readonly latencies: readonly number[];
  readonly non200: number;
  /** Answers by status code (`"200"`, `"503"`, ...), and `"error"` for requests that got none (connection reset, timeout). */
  readonly answers: Readonly<Record<string, number>>;
}

/** `answers` as one short line: `200×13, 503×3`. */
export const answerLine = (answers: Readonly<Record<string, number>>): string =>
  Object.entries(answers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `${code}×${n}`)
    .join(', ') || 'none';

/** The `q` quantile (0..1) of sorted `values`. */
export const quantile = (values: readonly number[], q: number): number => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN;

/**
 * Posts `body` to `url`/sync over `connections` keep-alive connections, each sending its next
 * request as soon as the previous answer is read, until `durationMs` passed or `maxRequests`
 * were sent.
 */
export async function load(url: string, body: string, opts: { connections: number; durationMs?: number; maxRequests?: number }): Promise<LoadResult> {
  const pool = new Pool(url, { connections: opts.connections, pipelining: 1, bodyTimeout: 120_000, headersTimeout: 120_000 });
  const latencies: number[] = [];
  let sent = 0;
  let non200 = 0;
  const answers: Record<string, number> = {};
  const count = (answer: string) => (answers[answer] = (answers[answer] ?? 0) + 1);
  const start = performance.now();
  const end = start + (opts.durationMs ?? Number.POSITIVE_INFINITY);
  const max = opts.maxRequests ?? Number.POSITIVE_INFINITY;
  const worker = async () => {
    while (performance.now() < end && sent < max) {
      sent += 1;
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: '/sync', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.body.text();
        latencies.push(performance.now() - t0);
        count(String(res.statusCode));
        if (res.statusCode !== 200) non200 += 1;
      } catch {
        // No answer at all (the server closed the connection mid-upload): counted, never hidden.
        count('error');
        non200 += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, seconds, latencies, non200, answers };
}
