/**
 * `npx tsx test/bench/maxima.ts`: what a /sync costs at the CRDs' maxima compared with a typical one
 * (issue 7 item 2), through the whole app (JSON parse, schema validation, reconcile on the memory
 * cloud, serialization). Prints figures; asserts nothing (timings belong to no test).
 *
 * Each shape is synced once to converge, then timed over converged syncs (the steady state
 * Metacontroller's resyncs produce). Also times the hostile sizes of issue 7, now refused.
 */
import { performance } from 'node:perf_hooks';
import { buildApp } from '../../src/app.js';
import { MemoryCloud } from '../../src/issuers/memory/cloud.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { RELATED, type SyncRequest } from '../../src/schemas/metacontroller.js';
import { shapedRequest, type Shape } from '../fixtures/maxima.js';

const RUNS = Number(process.env.RUNS ?? 15);

async function measure(label: string, request: SyncRequest): Promise<void> {
  const app = buildApp({ registry: createIssuerRegistry({ memoryCloud: new MemoryCloud() }), defaultMetrics: false });
  await app.ready();
  const payload = JSON.stringify(request);
  const first = await app.inject({ method: 'POST', url: '/sync', payload, headers: { 'content-type': 'application/json' } });
  const times: number[] = [];
  let status = 0;
  let answer = '';
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const res = await app.inject({ method: 'POST', url: '/sync', payload, headers: { 'content-type': 'application/json' } });
    times.push(performance.now() - start);
    status = res.statusCode;
    answer = res.payload;
  }
  await app.close();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  const ready = (JSON.parse(answer) as { status?: { conditions?: { type: string; status: string; reason: string }[] } }).status?.conditions?.find((c) => c.type === 'Ready');
  console.log(
    `${label.padEnd(58)} request ${(payload.length / 1024).toFixed(0).padStart(7)} KiB  median ${median.toFixed(1).padStart(7)} ms  max ${(times.at(-1) ?? 0).toFixed(1).padStart(7)} ms  ` +
      `HTTP ${first.statusCode}/${status}  status ${(Buffer.byteLength(answer) / 1024).toFixed(1)} KiB  Ready=${ready?.status ?? '-'} ${ready?.reason ?? ''}`,
  );
}

const shapes: [string, Shape][] = [
  ['typical: 3 nodes', { nodes: 3, maxima: false }],
  ['CRD maxima: 3 nodes', { nodes: 3, maxima: true }],
  ['typical: 1,000 nodes', { nodes: 1000, maxima: false }],
  ['CRD maxima: 1,000 nodes', { nodes: 1000, maxima: true }],
  ['CRD maxima: 1,000 nodes, none eligible', { nodes: 1000, maxima: true, eligible: 0 }],
];
console.log(`node ${process.version}, ${RUNS} converged syncs per shape`);
for (const [label, shape] of shapes) await measure(label, shapedRequest(shape));

/** The hostile issuers (past the CRD limits): refused with a condition, no work done. */
const hostile = (label: string, spec: object) => {
  const request = shapedRequest({ nodes: 3, maxima: false });
  const issuers = request.related?.[RELATED.issuers] ?? {};
  for (const key of Object.keys(issuers)) (issuers[key] as { spec: unknown }).spec = spec;
  return measure(label, request);
};
await hostile('hostile: 20,000 spec.memory.firewalls', { memory: { firewalls: Array.from({ length: 20_000 }, (_, i) => `fw-${i}`) } });
await hostile('hostile: 40,000 firewallSourceRanges', { memory: {}, firewallSourceRanges: Array.from({ length: 40_000 }, (_, i) => `10.${i % 256}.${i >> 8}.0/24`) });
