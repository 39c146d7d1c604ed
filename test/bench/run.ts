/**
 * `npm run bench` (issue 10): prints one table of figures measured side by side in one run.
 * Nothing is asserted (timings belong to no test); the goals are printed next to each figure.
 *
 * - P1 /sync throughput on a converged 50-Node payload ÷ a bare Fastify route (test/bench/bare.mjs)
 *   answering the same payload, both as child processes, rounds interleaved.
 * - P2 p50 latency at 5,000 Nodes ÷ bare (one connection, interleaved).
 * - P3 cloud reads and writes per RoutedIP per minute at 1 sync/s per RoutedIP, per cloud fake
 *   (and moto for AWS), on simulated time; plus 100 RoutedIPs on one DigitalOcean token with 10
 *   failing over at once, counted per 60 s window.
 * - P4 syncs from "holder ineligible" to the assign call.
 * - P5 peak RSS (VmHWM) of the server process at 16 concurrent 5,000-Node syncs ÷ bare, with
 *   both servers' answers by status code (met only when both answered all 200).
 * - Sync cost as inputs grow: 50/500/5,000 Nodes; 1/10/100 sibling RoutedIPs (in process).
 *
 * BENCH_SMOKE=1: tiny sizes and short runs (CI smoke run: it only proves the bench still runs).
 * BENCH_ONLY=clouds (or any of http,memory,clouds,scaling): those parts only (only http and memory
 * need dist/ built); BENCH_CLOUDS=aws,hetzner: only those clouds' P3/P4 rows.
 * A figure that cannot be measured prints `error: …` and the bench goes on; it then exits 1.
 * A goal not met is printed (`NO`), never a failure: timings assert nothing.
 * Lives under test/ (not a top-level bench/) to keep the top level as the guide lays it out; it
 * drives the same fakes and worlds the tests use, and ships in no image.
 */
import { performance } from 'node:perf_hooks';
import { buildApp } from '../../src/app.js';
import { MemoryCloud } from '../../src/issuers/memory/cloud.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { runtimeLine } from '../../src/runtime.js';
import { awsAddressQuota, cloudRow, doNeedsTag, hundredOnOneToken, type CloudRow } from './clouds.js';
import { answerLine, ensureBuilt, load, quantile, startServer, type Server } from './load.js';
import { benchRequest, converged, injector, poster } from './payloads.js';

process.env.NO_PROXY = '127.0.0.1,localhost';
const SMOKE = process.env.BENCH_SMOKE === '1';
/** BENCH_CLOUDS=aws,hetzner: the P3/P4 rows of the clouds whose names start with one of these only. */
const CLOUDS = process.env.BENCH_CLOUDS?.split(',').filter((c) => c !== '');
const wanted = (cloud: string): boolean => CLOUDS === undefined || CLOUDS.some((c) => cloud.startsWith(c));
const size = (full: number, smoke: number) => (SMOKE ? smoke : full);

const rows: string[][] = [];
/** Records a row of the table, and prints it at once (a long run shows what it has so far). */
const row = (id: string, what: string, value: string, goal: string, met?: boolean) => {
  const r = [id, what, value, goal, met === undefined ? '' : met ? 'yes' : 'NO'];
  rows.push(r);
  process.stderr.write(`bench: ${r.join(' | ')}\n`);
};
/**
 * Runs `fn`, which records its own rows; if it throws, records one `error: …` row for `id` and
 * `what` instead, so one failing figure never hides the others.
 */
async function attempt(id: string, what: string, goal: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
    errors += 1;
    row(id, what, `error: ${message}`, goal, false);
  }
}
/** Rows that failed to measure: the bench exits 1 if any did (a goal not met is no failure). */
let errors = 0;
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

async function withServers<T>(fn: (ours: Server, bare: Server) => Promise<T>): Promise<T> {
  const ours = await startServer('ours');
  const bare = await startServer('bare');
  try {
    return await fn(ours, bare);
  } finally {
    await Promise.all([ours.stop(), bare.stop()]);
  }
}

/** P1 and P2. */
async function http(): Promise<void> {
  await withServers(async (ours, bare) => {
    await attempt('P1', `/sync throughput, converged ${size(50, 5)}-Node payload, ÷ bare`, '≥ 0.8', () => throughput(ours, bare));
    await attempt('P2', `p50 latency at ${size(5000, 50)} Nodes, ÷ bare`, '≤ 1.3', () => latency(ours, bare));
  });
}

/** P1. */
async function throughput(ours: Server, bare: Server): Promise<void> {
  const small = benchRequest(size(50, 5));
  const bodyOurs = await converged(small, poster(ours.url));
  const bodyBare = bodyOurs;
  let oursReq = 0;
  let bareReq = 0;
  let oursSec = 0;
  let bareSec = 0;
  let oursCpu = 0;
  let bareCpu = 0;
  const rounds = size(6, 1);
  const durationMs = size(4000, 500);
  // Both run until their JIT settles (the service has more code to compile than the bare route):
  // P1 is the steady throughput of a process that serves for days, not its first second.
  const warmUpMs = size(2000, 500);
  log(`P1: ${rounds} interleaved rounds of ${durationMs} ms after ${warmUpMs} ms of warm-up each, 8 connections, ${(bodyOurs.length / 1024).toFixed(0)} KiB body`);
  await load(ours.url, bodyOurs, { connections: 8, durationMs: warmUpMs });
  await load(bare.url, bodyBare, { connections: 8, durationMs: warmUpMs });
  for (let r = 0; r < rounds; r++) {
    // Alternate which server goes first, so neither always follows the other.
    const [first, second] = r % 2 === 0 ? [ours, bare] : [bare, ours];
    const measure = async (server: Server) => {
      const cpu = server.cpuMs();
      const result = await load(server.url, server === ours ? bodyOurs : bodyBare, { connections: 8, durationMs });
      return { result, cpu: server.cpuMs() - cpu };
    };
    const a = await measure(first);
    const b = await measure(second);
    const [o, bb] = first === ours ? [a, b] : [b, a];
    oursReq += o.result.requests;
    oursSec += o.result.seconds;
    oursCpu += o.cpu;
    bareReq += bb.result.requests;
    bareSec += bb.result.seconds;
    bareCpu += bb.cpu;
    if (o.result.non200 + bb.result.non200 > 0) throw new Error(`non-200 answers: ours ${o.result.non200}, bare ${bb.result.non200}`);
  }
  const p1 = oursReq / oursSec / (bareReq / bareSec);
  // Server CPU per request (user + system, all threads) says the same thing without the load
  // generator's share of the machine in it: printed beside, for whoever compares two runs.
  const cpu = `server CPU ${fmt(oursCpu / oursReq)} vs ${fmt(bareCpu / bareReq)} ms/request`;
  row('P1', `/sync throughput, converged ${size(50, 5)}-Node payload, ÷ bare`, `${fmt(p1)} (${fmt(oursReq / oursSec, 0)} vs ${fmt(bareReq / bareSec, 0)} req/s; ${cpu})`, '≥ 0.8', p1 >= 0.8);
}

/** P2. */
async function latency(ours: Server, bare: Server): Promise<void> {
  const big = benchRequest(size(5000, 50));
  const bigBody = await converged(big, poster(ours.url));
  const n = size(12, 2);
  log(`P2: ${n} × 2 interleaved requests of ${(bigBody.length / 1024 / 1024).toFixed(1)} MiB, one connection`);
  const oursLat: number[] = [];
  const bareLat: number[] = [];
  for (let i = 0; i < n; i++) {
    oursLat.push(...(await load(ours.url, bigBody, { connections: 1, maxRequests: 1 })).latencies);
    bareLat.push(...(await load(bare.url, bigBody, { connections: 1, maxRequests: 1 })).latencies);
  }
  oursLat.sort((a, b) => a - b);
  bareLat.sort((a, b) => a - b);
  const p2 = quantile(oursLat, 0.5) / quantile(bareLat, 0.5);
  row('P2', `p50 latency at ${size(5000, 50)} Nodes (${(bigBody.length / 1024 / 1024).toFixed(1)} MiB), ÷ bare`, `${fmt(p2)} (${fmt(quantile(oursLat, 0.5), 0)} vs ${fmt(quantile(bareLat, 0.5), 0)} ms)`, '≤ 1.3', p2 <= 1.3);
}

/**
 * P5: fresh processes, so the peak is this load's own. Both servers get the same work before
 * the burst (three single syncs: the service's converge the payload), and every answer of the
 * burst is counted by status code: the ratio is "met" only when both servers answered every
 * request 200, since a server that refuses part of a burst does less work than one that serves it.
 */
async function memory(): Promise<void> {
  const concurrent = size(16, 2);
  const what = `peak RSS, ${concurrent} concurrent ${size(5000, 50)}-Node syncs, ÷ bare`;
  await withServers(async (ours, bare) => {
    const idle = { ours: ours.peakRss(), bare: bare.peakRss() };
    const body = await converged(benchRequest(size(5000, 50)), poster(ours.url));
    for (let i = 0; i < 3; i++) await poster(bare.url)(body);
    const warm = { ours: ours.peakRss(), bare: bare.peakRss() };
    log(`P5: ${concurrent} concurrent syncs of ${(body.length / 1024 / 1024).toFixed(1)} MiB, twice`);
    const answers = { ours: {} as Record<string, number>, bare: {} as Record<string, number> };
    const add = (to: Record<string, number>, from: Readonly<Record<string, number>>) => {
      for (const [code, n] of Object.entries(from)) to[code] = (to[code] ?? 0) + n;
    };
    const slowest = { ours: 0, bare: 0 };
    for (let i = 0; i < 2; i++) {
      for (const [kind, server] of [['ours', ours], ['bare', bare]] as const) {
        const r = await load(server.url, body, { connections: concurrent, maxRequests: concurrent });
        add(answers[kind], r.answers);
        slowest[kind] = Math.max(slowest[kind], r.latencies.at(-1) ?? 0);
      }
    }
    const p5 = ours.peakRss() / bare.peakRss();
    const mib = (b: number) => (b / 1024 / 1024).toFixed(0);
    const allServed = (a: Record<string, number>) => a['200'] === 2 * concurrent;
    const served = allServed(answers.ours) && allServed(answers.bare);
    row(
      'P5',
      what,
      `${fmt(p5)} (${mib(ours.peakRss())} vs ${mib(bare.peakRss())} MiB; answers ${answerLine(answers.ours)} vs ${answerLine(answers.bare)}, slowest ${(slowest.ours / 1000).toFixed(1)} vs ${(slowest.bare / 1000).toFixed(1)} s; idle ${mib(idle.ours)} vs ${mib(idle.bare)}, after 3 single syncs ${mib(warm.ours)} vs ${mib(warm.bare)})`,
      '≤ 1.2, all 200',
      p5 <= 1.2 && served,
    );
  });
}

/** How the bench's account for `cloud` differs from a default one, for the row's label. */
function accountNote(cloud: Parameters<typeof cloudRow>[0], n: number): string {
  if (cloud === 'aws (fake)' && awsAddressQuota(n) > 5) return `, Elastic IP quota raised to ${awsAddressQuota(n)}`;
  if (cloud === 'digitalocean' && doNeedsTag(n)) return ', firewall by tag';
  return '';
}

/** P3 and P4 per cloud. */
async function clouds(): Promise<void> {
  const seconds = size(120, 60);
  const cases: Array<[Parameters<typeof cloudRow>[0], number]> = [
    ['digitalocean', 1], ['digitalocean', 10], ['aws (fake)', 1], ['aws (fake)', 10], ['aws (moto)', 1], ['aws (moto)', 10], ['hetzner', 1], ['hetzner', 10],
  ];
  for (const [cloud, n] of (SMOKE ? cases.filter(([, k]) => k === 1) : cases).filter(([c]) => wanted(c))) {
    log(`P3/P4: ${cloud}, ${n} RoutedIP(s), ${seconds} simulated s at 1 sync/s each`);
    const label = `${cloud}, ${n} RoutedIP${n > 1 ? 's' : ''} on the account${accountNote(cloud, n)}`;
    await attempt('P3', `${label}: reads (writes) per RoutedIP per minute`, '≤ 2, 0 writes', async () => {
      const r = await cloudRow(cloud, n, seconds);
      if ('skipped' in r) {
        row('P3', `${label}: cloud requests per RoutedIP per minute`, `skipped (${r.skipped})`, '≤ 2, 0 writes');
        return;
      }
      const ok = (r as CloudRow).readsPerMin <= 2 && r.writesPerMin === 0;
      row('P3', `${label}: reads (writes) per RoutedIP per minute`, `${fmt(r.readsPerMin)} (${fmt(r.writesPerMin)})`, '≤ 2, 0 writes', ok);
      row('P4', `${label}: syncs from holder ineligible to the assign call`, String(r.failoverSyncs), '1', r.failoverSyncs === 1);
    });
  }
  if (!wanted('digitalocean')) return;
  const n = size(100, 10);
  const failing = size(10, 2);
  log(`P3: ${n} RoutedIPs on one DigitalOcean token, ${failing} failing over at once, 60 simulated s`);
  const what = `digitalocean: ${n} RoutedIPs on one token${accountNote('digitalocean', n)}, ${failing} failing over at once: requests in the busiest 60 s`;
  await attempt('P3', what, '≤ 250', async () => {
    const h = await hundredOnOneToken(n, failing, 60);
    row('P3', what, `${h.maxPerMinute} (moved ${h.moved}/${failing}, Ready ${h.ready}/${h.n})`, '≤ 250', h.maxPerMinute <= 250 && h.moved === failing);
  });
}

/** Median ms of `runs` converged in-process syncs of `request`. */
async function syncCost(nodes: number, siblings: number, runs: number): Promise<number> {
  const app = buildApp({ registry: createIssuerRegistry({ memoryCloud: new MemoryCloud() }), defaultMetrics: false });
  await app.ready();
  const post = injector(app);
  const body = await converged(benchRequest(nodes, siblings), post);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await post(body);
    times.push(performance.now() - t0);
  }
  await app.close();
  times.sort((a, b) => a - b);
  return quantile(times, 0.5);
}

async function scaling(): Promise<void> {
  const nodeSizes = SMOKE ? [5, 50] : [50, 500, 5000];
  log('sync cost: nodes');
  let base: number | undefined;
  for (const n of nodeSizes) {
    const what = `converged sync, ${n} Nodes, 1 sibling (in process)`;
    await attempt('cost', what, 'no worse than linear', async () => {
      const ms = await syncCost(n, 1, size(n >= 5000 ? 8 : n === nodeSizes[0] ? 30 : 20, 3));
      base ??= (ms / n) * nodeSizes[0]!;
      const growth = ms / base / (n / nodeSizes[0]!);
      row('cost', what, `${fmt(ms, 1)} ms (${fmt((ms / n) * 1000, 1)} µs/Node)`, 'no worse than linear', n === nodeSizes[0] || growth <= 1.2);
    });
  }
  log('sync cost: siblings');
  const sibs = SMOKE ? [1, 10] : [1, 10, 100];
  let sBase: number | undefined;
  for (const s of sibs) {
    const what = `converged sync, 50 Nodes, ${s} sibling RoutedIP${s > 1 ? 's' : ''} (in process)`;
    await attempt('cost', what, 'no worse than linear', async () => {
      const ms = await syncCost(50, s, size(30, 3));
      sBase ??= ms;
      row('cost', what, `${fmt(ms, 1)} ms`, 'no worse than linear', s === sibs[0] || ms / sBase <= (s / sibs[0]!) * 1.2);
    });
  }
}

/** Which parts run: all, or those named in BENCH_ONLY (comma-separated: http, memory, clouds, scaling). */
const only = new Set((process.env.BENCH_ONLY ?? 'http,memory,clouds,scaling').split(',').map((x) => x.trim()));
console.log(`npm run bench${SMOKE ? ' (BENCH_SMOKE=1: tiny sizes, figures meaningless)' : ''} — ${runtimeLine()}, ${(await import('node:os')).cpus().length} CPUs`);
if (only.has('http') || only.has('memory')) ensureBuilt();
if (only.has('http')) await attempt('P1/P2', 'throughput and p50 latency ÷ bare', '≥ 0.8 / ≤ 1.3', http);
if (only.has('memory')) await attempt('P5', 'peak RSS ÷ bare', '≤ 1.2', memory);
if (only.has('clouds')) await clouds();
if (only.has('scaling')) await scaling();
const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...[['id', 'figure', 'measured', 'goal', 'met'], ...rows].map((r) => (r[i] ?? '').length)));
for (const r of [['id', 'figure', 'measured', 'goal', 'met'], ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
if (errors > 0) console.log(`${errors} figure(s) could not be measured (error rows above)`);
process.exit(errors > 0 ? 1 : 0);
