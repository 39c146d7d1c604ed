/**
 * `npx tsx test/bench/profile.ts [nodes] [connections] [seconds]`: where a converged /sync spends
 * its CPU. Runs the service from dist/ with `node --cpu-prof` under the load of `npm run bench`
 * (converged payload of `nodes` realistic Nodes, default 50; `connections` keep-alive connections,
 * default 8 as P1 — P2 is `5000 1`), then prints self time grouped by package
 * (node_modules/<pkg>, our src/ files, node internals) and the top functions. PROFILE_SERVER=bare
 * profiles the bare route instead, to compare.
 * docs/performance.md quotes it.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, load, startServer } from './load.js';
import { benchRequest, converged, poster } from './payloads.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time in ms per node id, leaving out the first `skipMs` (start-up, module loading). */
function selfTimes(p: Profile, skipMs: number): Map<number, number> {
  const out = new Map<number, number>();
  let at = 0;
  p.samples.forEach((id, i) => {
    const delta = (p.timeDeltas[i] ?? 0) / 1000;
    at += delta;
    if (at >= skipMs) out.set(id, (out.get(id) ?? 0) + delta);
  });
  return out;
}

/** Where a frame's code lives: a package, our src/ file, or a Node internal. */
function owner(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/dist\/(.*)$/.exec(url);
  if (ours) return `ours: ${ours[1]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

const nodes = Number(process.argv[2] ?? 50);
const connections = Number(process.argv[3] ?? 8);
const seconds = Number(process.argv[4] ?? 8);
process.env.NO_PROXY = '127.0.0.1,localhost';
ensureBuilt();
const dir = mkdtempSync(join(tmpdir(), 'routedip-prof-'));
const spawned = Date.now();
const kind = process.env.PROFILE_SERVER === 'bare' ? 'bare' : 'ours';
const server = await startServer(kind, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
const body = await converged(benchRequest(nodes), poster(server.url));
// Warm up (JIT), then profile only the steady load: samples before it are left out.
await load(server.url, body, { connections, durationMs: 2000 });
const loadStart = Date.now() - spawned;
const r = await load(server.url, body, { connections, durationMs: seconds * 1000 });
await server.stop();
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
const self = selfTimes(profile, loadStart);
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byOwner = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const n of profile.nodes) {
  const ms = self.get(n.id) ?? 0;
  if (ms === 0) continue;
  const o = owner(n.callFrame.url, n.callFrame.functionName);
  byOwner.set(o, (byOwner.get(o) ?? 0) + ms);
  const f = `${n.callFrame.functionName || '(anonymous)'} ${o}:${n.callFrame.lineNumber + 1}`;
  byFunction.set(f, (byFunction.get(f) ?? 0) + ms);
}
// Share of the profile, and CPU ms per sync (comparable between the service and the bare route).
const pct = (ms: number) => `${((ms / total) * 100).toFixed(1).padStart(5)} % ${(ms / r.requests).toFixed(2).padStart(8)} ms/sync`;
console.log(`${kind}: ${r.requests} converged syncs of ${nodes} Nodes over ${connections} connection(s) in ${r.seconds.toFixed(1)} s (${(r.requests / r.seconds).toFixed(0)}/s); profile ${dir}/${file}`);
console.log('\nself time by where the code lives:');
for (const [o, ms] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${pct(ms)}  ${o}`);
console.log('\ntop functions by self time:');
for (const [f, ms] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(ms)}  ${f}`);
