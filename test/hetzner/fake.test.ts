/**
 * The fake Hetzner Cloud API and the client, together: the rules the fake enforces (they are
 * what the issuer is tested against), and the client's mapping of its answers.
 */
import t from 'tap';
import { createHetznerClient } from '../../src/issuers/hetzner/client.js';
import { HETZNER_REQUEST_TIMEOUT_MS, hetznerRateBudget } from '../../src/issuers/hetzner/index.js';
import { unboundedSession } from '../../src/issuers/session.js';
import { startFake, TOKEN } from './helpers.js';
import type { FakeHetzner } from '../fakes/hetzner/server.js';

const clientFor = (fake: FakeHetzner, token = TOKEN) =>
  createHetznerClient({ token, endpoint: fake.endpoint, requestTimeoutMs: HETZNER_REQUEST_TIMEOUT_MS, budget: hetznerRateBudget(Date.now), session: unboundedSession() });

async function reason(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { reason?: string }).reason;
  }
  return undefined;
}

t.test('Floating IP names are unique per project: a second create is refused', async (t) => {
  const fake = await startFake(t, { actionReads: 0 });
  const client = clientFor(fake);
  const body = { type: 'ipv4' as const, name: 'routedip-x', description: 'd', labels: { 'routedip.io/uid': 'x' }, server: 101 };
  const { floatingIP, action } = await client.createFloatingIP(body);
  t.equal(action?.status, 'success');
  t.equal((await client.getFloatingIP(floatingIP.id))?.server, 101);
  t.equal(await reason(client.createFloatingIP(body)), 'NameTaken');
  t.same((await client.listFloatingIPs('routedip.io/uid=x')).map((f) => f.id), [floatingIP.id]);
  t.same(await client.listFloatingIPs('routedip.io/uid=y'), []);
});

t.test('a running action locks the Floating IP; the server changes when it finishes', async (t) => {
  const fake = await startFake(t, { actionReads: 2 });
  const client = clientFor(fake);
  const fip = fake.model.addFloatingIP('fsn1');
  const action = await client.assignFloatingIP(fip.id, 102);
  t.equal(action.status, 'running');
  t.equal(await reason(client.unassignFloatingIP(fip.id)), 'CloudBusy');
  t.same((await client.recentFloatingIPActions(fip.id))?.map((a) => [a.id, a.status]), [[action.id, 'running']]);
  t.equal((await client.getFloatingIP(fip.id))?.server, null, 'not moved while the action runs');
  t.equal((await client.getFloatingIP(fip.id))?.server, 102, 'assigned once the action finished');
  t.same((await client.recentFloatingIPActions(fip.id))?.map((a) => a.status), ['success']);
  t.equal(await client.recentFloatingIPActions(999_999), undefined, 'a gone IP');
});

t.test('delete protection is refused with a clear reason', async (t) => {
  const fake = await startFake(t);
  const fip = fake.model.addFloatingIP('fsn1', { protection: { delete: true } });
  t.equal(await reason(clientFor(fake).deleteFloatingIP(fip.id)), 'DeleteProtected');
  t.ok(fake.model.floatingIPs.has(fip.id));
});

t.test('set_rules keeps what it is given byte for byte; apply/remove are tolerant; label selectors resolve', async (t) => {
  const fake = await startFake(t, { actionReads: 0 });
  fake.model.servers.get(103)!.labels.role = 'ingress';
  const odd = { description: 'ünïcode ✓', direction: 'in', port: '1000-2000', protocol: 'udp', source_ips: ['192.0.2.0/24'], destination_ips: [] };
  const fw = fake.model.addFirewall('fw', [odd], [{ type: 'label_selector', label_selector: { selector: 'role=ingress' } }]);
  const client = clientFor(fake);
  const read = (await client.firewallsNamed('fw'))[0]!;
  t.same(read.applied_to[0]?.applied_to_resources, [{ type: 'server', server: { id: 103 } }]);
  await client.setRules(fw.id, [...read.rules, { description: 'mine', direction: 'in', port: '80', protocol: 'tcp', source_ips: ['0.0.0.0/0'], destination_ips: [] }]);
  t.equal(JSON.stringify((await client.getFirewall(fw.id))!.rules[0]), JSON.stringify(odd));
  await client.applyToServers(fw.id, [101]);
  t.same(await client.applyToServers(fw.id, [101]), [], 'already applied is not an error');
  await client.removeFromServers(fw.id, [101]);
  t.same(await client.removeFromServers(fw.id, [101]), [], 'already removed is not an error');
  t.same(await client.removeFromServers(fw.id, [103]), [], 'a server covered only by the label selector is not removed');
  t.same(fake.model.protectedServers(fw), [103]);
});

t.test('errors map by status and code; the token is in no message', async (t) => {
  const fake = await startFake(t);
  t.equal(await reason(clientFor(fake, 'wrong-token').getServer(101)), 'InvalidCredentials');
  fake.fault('get_server', { status: 403, code: 'token_readonly', message: 'read-only token' });
  t.equal(await reason(clientFor(fake).getServer(101)), 'Forbidden');
  fake.fault('get_server', { status: 503, code: 'unavailable', message: 'down' });
  t.equal(await reason(clientFor(fake).getServer(101)), 'CloudUnavailable');
  t.equal(await clientFor(fake).getServer(999), undefined, '404 on a read is absence');
  fake.fault('get_server', { lose: true });
  t.equal(await reason(clientFor(fake).getServer(101)), 'CloudUnreachable');
  try {
    await clientFor(fake, 'wrong-token').getServer(101);
  } catch (err) {
    t.notMatch((err as Error).message, /wrong-token/);
  }
});

t.test('429: the budget refuses further calls until the bucket has refilled', async (t) => {
  const fake = await startFake(t);
  const client = clientFor(fake);
  fake.rate.remaining = 0;
  t.equal(await reason(client.getServer(101)), 'RateLimited');
  const seen = fake.requests.length;
  t.equal(await reason(client.getServer(101)), 'RateLimited');
  t.equal(fake.requests.length, seen, 'no request sent while the budget is spent');
});
