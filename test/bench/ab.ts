/**
 * `npx tsx test/bench/ab.ts <entry> <entry> ... [--rounds N] [--seconds S] [--nodes N]`: P1's load
 * on several servers, rounds interleaved, for A/B measurements of a change to the hot path.
 * Each entry is `ours` (dist/server.js), `bare` (test/bench/bare.mjs) or a script relative to the
 * project (a copy of dist/ with a change, say `dist-b/server.js`), each optionally followed by
 * `:<node flags, comma-separated>`; the service's configuration is
 * `npm run bench`'s. Prints req/s per entry and per round, and each entry ÷ the first.
 * docs/performance.md says how it was used.
 */
import { ensureBuilt, load, startServer, type Server } from './load.js';
import { benchRequest, converged, poster } from './payloads.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const [, value] = args.splice(i, 2);
  return Number(value);
};
const rounds = option('rounds', 6);
const seconds = option('seconds', 3);
const nodes = option('nodes', 50);
const entries = args.length > 0 ? args : ['bare', 'ours'];
process.env.NO_PROXY = '127.0.0.1,localhost';
ensureBuilt();
const servers: Server[] = [];
for (const entry of entries) {
  // `<entry>:<node flag>,<node flag>` runs the entry with those flags (e.g. `ours:--max-semi-space-size=32`).
  const [script = '', flags = ''] = entry.split(':');
  const nodeArgs = flags === '' ? [] : flags.split(',');
  servers.push(script === 'bare' || script === 'ours' ? await startServer(script, nodeArgs) : await startServer('ours', nodeArgs, script));
}
const request = benchRequest(nodes);
const ourIndex = Math.max(0, entries.findIndex((e) => !e.startsWith('bare')));
const body = await converged(request, poster(servers[ourIndex]!.url));
const totals = entries.map(() => ({ requests: 0, seconds: 0, cpuMs: 0, perRound: [] as number[] }));
for (const s of servers) await load(s.url, body, { connections: 8, durationMs: 500 });
for (let r = 0; r < rounds; r++) {
  // Alternate the order each round so neither side always runs after the other.
  const order = r % 2 === 0 ? servers.map((_, i) => i) : servers.map((_, i) => servers.length - 1 - i);
  for (const i of order) {
    const cpuBefore = servers[i]!.cpuMs();
    const result = await load(servers[i]!.url, body, { connections: 8, durationMs: seconds * 1000 });
    totals[i]!.cpuMs += servers[i]!.cpuMs() - cpuBefore;
    if (result.non200 > 0) throw new Error(`${entries[i]}: ${result.non200} non-200 answers`);
    const t = totals[i]!;
    t.requests += result.requests;
    t.seconds += result.seconds;
    t.perRound.push(Math.round(result.requests / result.seconds));
  }
}
for (const s of servers) await s.stop();
const rate = (i: number) => totals[i]!.requests / totals[i]!.seconds;
// Server CPU per request: steadier than req/s on a shared machine (it does not count the time the
// server waited for a core), so small changes show in it first.
const cpu = (i: number) => totals[i]!.cpuMs / totals[i]!.requests;
entries.forEach((entry, i) => {
  process.stdout.write(`${entry.padEnd(24)} ${rate(i).toFixed(0).padStart(5)} req/s  ÷ ${entries[0]}: ${(rate(i) / rate(0)).toFixed(3)}  CPU ${cpu(i).toFixed(2)} ms/req (÷ ${(cpu(i) / cpu(0)).toFixed(3)})  rounds: ${totals[i]!.perRound.join(' ')}\n`);
});
