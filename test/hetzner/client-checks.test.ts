/**
 * The client checks every answer with the compiled check of `isValid` (issue 10), which keeps
 * one compiled checker per schema object: so every schema it checks against must be built once,
 * not per call (a per-call schema would compile, and keep, a checker per request). Observed by
 * counting the distinct schema objects handed to `isValid` over many rounds of every call.
 * A malformed answer is still refused as before.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TSchema } from '@sinclair/typebox';
import t from 'tap';
import * as check from '../../src/schemas/check.js';
import { IssuerUnavailableError } from '../../src/issuers/errors.js';
import { HETZNER_REQUEST_TIMEOUT_MS, hetznerRateBudget } from '../../src/issuers/hetzner/index.js';
import { unboundedSession } from '../../src/issuers/session.js';
import { startFake, TOKEN } from './helpers.js';

const schemas = new Set<TSchema>();
let checks = 0;
const { createHetznerClient } = await t.mockImport<typeof import('../../src/issuers/hetzner/client.js')>('../../src/issuers/hetzner/client.js', {
  '../../src/schemas/check.js': {
    ...check,
    isValid: (schema: TSchema, value: unknown) => {
      schemas.add(schema);
      checks += 1;
      return check.isValid(schema, value);
    },
  },
});

const clientAt = (endpoint: string) =>
  createHetznerClient({ token: TOKEN, endpoint, requestTimeoutMs: HETZNER_REQUEST_TIMEOUT_MS, budget: hetznerRateBudget(Date.now), session: unboundedSession() });

t.test('every call of every kind checks its answer against schemas built once', async (t) => {
  const fake = await startFake(t, { actionReads: 0 });
  const firewall = fake.model.addFirewall('fw', [], []).id;
  const client = clientAt(fake.endpoint);
  const round = async (i: number) => {
    await client.getServer(101);
    await client.getServer(999); // 404 with an error body: the error envelope is checked too
    const { floatingIP } = await client.createFloatingIP({ type: 'ipv4', name: `ip-${i}`, description: 'd', labels: { owner: 'x' }, server: 101 });
    await client.getFloatingIP(floatingIP.id);
    await client.listFloatingIPs('owner=x');
    await client.listFloatingIPs();
    await client.assignFloatingIP(floatingIP.id, 102);
    await client.unassignFloatingIP(floatingIP.id);
    await client.recentFloatingIPActions(floatingIP.id);
    await client.deleteFloatingIP(floatingIP.id);
    await client.firewallsNamed('fw');
    await client.getFirewall(firewall);
    await client.runningFirewallActions(firewall);
    await client.setRules(firewall, [{ direction: 'in', protocol: 'tcp', port: '443', source_ips: ['0.0.0.0/0'], destination_ips: [] }]);
    await client.applyToServers(firewall, [101]);
    await client.removeFromServers(firewall, [101]);
  };
  await round(0);
  const afterOne = schemas.size;
  const checksOfOne = checks;
  t.ok(afterOne >= 10, `the answers of one round were checked through isValid against ${afterOne} schemas (${checksOfOne} checks)`);
  for (let i = 1; i <= 20; i++) await round(i);
  t.equal(checks, checksOfOne * 21, 'every answer of every round was checked');
  t.equal(schemas.size, afterOne, `as many schema objects after 21 rounds (${checks} checks) as after one: none is built per call`);
});

t.test('a malformed answer is refused as before: CloudUnavailable, naming the field', async (t) => {
  let answer: { status: number; body: string } = { status: 200, body: '{}' };
  const server = http.createServer((_req, res) => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = clientAt(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err;
    }
    return undefined;
  };

  answer = { status: 200, body: JSON.stringify({ server: { id: 'one', name: 'n', location: { name: 'fsn1' } } }) };
  const wrongField = await refusal(client.getServer(1));
  t.ok(wrongField instanceof IssuerUnavailableError, 'a wrong field type is refused');
  t.match(wrongField, { reason: 'CloudUnavailable', message: /^read server 1: unexpected answer from Hetzner Cloud \(\/server\/id: / });

  answer = { status: 200, body: JSON.stringify({ floating_ips: [] }) };
  const noMeta = await refusal(client.listFloatingIPs());
  t.ok(noMeta instanceof IssuerUnavailableError, 'a page without its pagination is refused');
  t.match(noMeta, { reason: 'CloudUnavailable', message: /^list Floating IPs: unexpected answer from Hetzner Cloud \(\/meta: / });

  answer = { status: 200, body: JSON.stringify({ firewall: null }) };
  t.match(await refusal(client.getFirewall(7)), { reason: 'CloudUnavailable', message: /unexpected answer from Hetzner Cloud \(\/firewall: / });

  // An error without Hetzner's envelope is mapped by status alone, as before.
  answer = { status: 503, body: JSON.stringify({ message: 'down' }) };
  t.match(await refusal(client.getServer(1)), { reason: 'CloudUnavailable', message: /^read server 1: Hetzner Cloud failed \(HTTP 503\)/ });
  answer = { status: 409, body: JSON.stringify({ error: { code: 'uniqueness_error', message: 'taken' } }) };
  t.match(await refusal(client.createFloatingIP({ type: 'ipv4', name: 'x', description: 'd', labels: {}, server: 1 })), { reason: 'NameTaken' });
});
