/**
 * `npx tsx test/bench/cpu.ts [nodes] [requests] [connections]`: server CPU time per converged
 * /sync, the service (dist/) beside the bare route, read from each process's own counters
 * (`/proc/<pid>/stat` utime + stime) around `requests` requests, interleaved one server at a
 * time in rounds. Latency ratios (P1, P2) move with the machine's load; CPU time per
 * request moves far less, so this is what a before/after of the service's own cost compares.
 * Prints; asserts nothing. Defaults: 5,000 Nodes (P2's payload), 12 requests, one connection.
 */
import { ensureBuilt, load, startServer } from './load.js';
import { benchRequest, converged, poster } from './payloads.js';

const nodes = Number(process.argv[2] ?? 5000);
const requests = Number(process.argv[3] ?? 12);
const connections = Number(process.argv[4] ?? 1);
process.env.NO_PROXY = '127.0.0.1,localhost';
ensureBuilt();
const ours = await startServer('ours');
const bare = await startServer('bare');
try {
  const body = await converged(benchRequest(nodes), poster(ours.url));
  for (const s of [ours, bare]) await load(s.url, body, { connections, maxRequests: 2 * connections });
  const spent = { ours: 0, bare: 0 };
  // Rounds long enough for the counters' 10 ms ticks: 2 requests of a big payload, 50 of a small one.
  const batch = Math.min(requests, nodes >= 1000 ? 2 : 50);
  for (let done = 0; done < requests; done += batch) {
    for (const [kind, s] of [['ours', ours], ['bare', bare]] as const) {
      const before = s.cpuMs();
      const r = await load(s.url, body, { connections, maxRequests: batch });
      if (r.non200 > 0) throw new Error(`${kind}: ${r.non200} non-200 answers`);
      spent[kind] += s.cpuMs() - before;
    }
  }
  const per = (ms: number) => (ms / requests).toFixed(requests >= 100 ? 2 : 0);
  console.log(`${nodes} Nodes (${(body.length / 1024 / 1024).toFixed(1)} MiB), ${requests} requests each, ${connections} connection(s): server CPU per request ours ${per(spent.ours)} ms, bare ${per(spent.bare)} ms, ratio ${(spent.ours / spent.bare).toFixed(2)}; peak RSS ours ${(ours.peakRss() / 2 ** 20).toFixed(0)} MiB`);
} finally {
  await Promise.all([ours.stop(), bare.stop()]);
}
