/**
 * CPU of the Hetzner client per call (issue 10): the reads of a converged sync (the owner's
 * Floating IPs as one 50-object page, the Firewall, three servers, the IP's recent actions) sent
 * `ROUNDS` times against the fake Hetzner API, which runs in a child process so only the
 * client's CPU (undici, JSON, answer checks) is counted; then the check alone of that 50-IP
 * page, interpreted (`Value.Check`) and compiled (`isValid`). Prints figures; asserts nothing.
 * `npx tsx test/bench/hetzner-client.ts [rounds]`
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { createHetznerClient } from '../../src/issuers/hetzner/client.js';
import { HETZNER_REQUEST_TIMEOUT_MS, hetznerRateBudget } from '../../src/issuers/hetzner/index.js';
import { HFloatingIPSchema, HMetaSchema } from '../../src/issuers/hetzner/schemas.js';
import { unboundedSession } from '../../src/issuers/session.js';
import { isValid } from '../../src/schemas/check.js';

const FAKE = `
import { FakeHetzner } from './test/fakes/hetzner/server.js';
const fake = await new FakeHetzner({ actionReads: 0 }).start();
fake.rate.limit = fake.rate.remaining = 1e9;
for (const id of [101, 102, 103]) fake.model.addServer(id, 'fsn1');
for (let i = 0; i < 50; i++) fake.model.addFloatingIP('fsn1', { labels: { 'routedip.io/owner': 'x', ['routedip.io/uid']: 'u' + i }, server: 101 });
fake.model.addFirewall('fw', [{ description: 'a', direction: 'in', port: '443', protocol: 'tcp', source_ips: ['0.0.0.0/0', '::/0'], destination_ips: [] }], [{ type: 'server', server: { id: 101 } }]);
console.log(fake.endpoint);
`;

const rounds = Number(process.argv[2] ?? 1000);
const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', FAKE], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(child.stdout!, 'data')) as [Buffer];
const endpoint = line.toString().trim();
try {
  const client = createHetznerClient({ token: 'hcloud-test-token', endpoint, requestTimeoutMs: HETZNER_REQUEST_TIMEOUT_MS, budget: hetznerRateBudget(Date.now, 0), session: unboundedSession() });
  const firewall = (await client.firewallsNamed('fw'))[0]!.id;
  const fip = (await client.listFloatingIPs('routedip.io/owner=x'))[0]!.id;
  const sync = async () => {
    await client.listFloatingIPs('routedip.io/owner=x');
    await client.getFirewall(firewall);
    for (const id of [101, 102, 103]) await client.getServer(id);
    await client.recentFloatingIPActions(fip);
  };
  const CALLS = 6;
  for (let i = 0; i < 200; i++) await sync(); // warm up (JIT, compiled checks, connections)
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await sync();
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - started;
  const us = used.user + used.system;
  console.log(`${rounds} converged-sync read rounds (${CALLS} calls each): client CPU ${(us / rounds).toFixed(0)} µs/round, ${(us / rounds / CALLS).toFixed(0)} µs/call; wall ${(wall / rounds).toFixed(2)} ms/round`);
  const page = await (await fetch(`${endpoint}/floating_ips?label_selector=routedip.io%2Fowner%3Dx&per_page=50`, { headers: { authorization: 'Bearer hcloud-test-token' } })).json();
  const schema = Type.Object({ floating_ips: Type.Array(HFloatingIPSchema), meta: HMetaSchema });
  for (const [name, checkOf] of [['Value.Check', () => Value.Check(schema, page)], ['isValid', () => isValid(schema, page)]] as const) {
    for (let i = 0; i < 2000; i++) checkOf();
    const n = 20000;
    const c = process.cpuUsage();
    for (let i = 0; i < n; i++) if (!checkOf()) throw new Error('page refused');
    const u = process.cpuUsage(c);
    console.log(`check of one 50-Floating-IP page, ${name}: ${((u.user + u.system) / n).toFixed(1)} µs`);
  }
} finally {
  child.kill();
}
