/** The memory cloud as a test instrument: call log, fault injection (lost responses), snapshots. */
import t from 'tap';
import { IssuerRateLimitError, IssuerUnavailableError } from '../../src/issuers/errors.js';
import type { RoutedIPOwner } from '../../src/issuers/issuer.js';
import { memoryIssuer } from './memory-helpers.js';

const owner: RoutedIPOwner = { namespace: 'ingress', name: 'x', uid: 'uid-x' };
const n1 = { node: 'n1', id: 'n1' };
const query = { owner, nodes: [n1], foreignAddresses: [] };
const rule = { protocol: 'tcp' as const, port: 80, sources: ['0.0.0.0/0'] };

t.test('the call log records every call; writes() counts write methods, changed or not', async (t) => {
  const { cloud, issuer, account } = memoryIssuer({ firewalls: ['public'] });
  issuer.nodeTarget({ metadata: { name: 'n1' } });
  const ip = await issuer.createRoutedIP(owner, n1);
  await issuer.assignRoutedIP(ip, n1);
  await issuer.assignRoutedIP(ip, n1);
  const fw = (await issuer.findRoutedIPFirewall('public', owner))!;
  await issuer.addRoutedIPFirewallPort(fw, [rule], owner);
  await issuer.addRoutedIPFirewallNode(fw, n1);
  t.same(cloud.calls(account), [
    { account, method: 'createRoutedIP', args: 'ingress/x node=n1', mutating: true, changed: true },
    { account, method: 'assignRoutedIP', args: '203.0.113.1 -> n1', mutating: true, changed: true },
    { account, method: 'assignRoutedIP', args: '203.0.113.1 -> n1', mutating: true, changed: false },
    { account, method: 'findRoutedIPFirewall', args: 'public', mutating: false, changed: false },
    { account, method: 'addRoutedIPFirewallPort', args: 'public tcp/80 from 0.0.0.0/0', mutating: true, changed: true },
    { account, method: 'addRoutedIPFirewallNode', args: 'public n1', mutating: true, changed: true },
  ]);
  t.equal(cloud.writes().length, 5);
  t.equal(cloud.calls('ingress/other').length, 0);
  cloud.clearCalls();
  await issuer.findRoutedIP(query);
  t.same(cloud.calls().map((c) => c.method), ['findRoutedIP']);
  t.same(cloud.writes(), []);
});

t.test('failNext before the effect: the caller sees the error, the cloud is unchanged, the next call works', async (t) => {
  const { cloud, issuer, account } = memoryIssuer();
  const error = new IssuerUnavailableError('simulated outage');
  cloud.failNext('createRoutedIP', error);
  await t.rejects(issuer.createRoutedIP(owner, n1), error);
  t.same(cloud.snapshot(account).ips, []);
  t.match(cloud.calls(), [{ method: 'createRoutedIP', changed: false, error: 'CloudUnavailable' }]);
  t.equal((await issuer.createRoutedIP(owner, n1)).address, '203.0.113.1', 'the fault was consumed');
});

t.test('failNext afterEffect is a lost response: the address exists and is found by owner', async (t) => {
  const { cloud, issuer } = memoryIssuer();
  cloud.failNext('createRoutedIP', new IssuerUnavailableError('response lost'), { afterEffect: true });
  await t.rejects(issuer.createRoutedIP(owner, n1), { message: 'response lost' });
  t.match(cloud.calls(), [{ method: 'createRoutedIP', changed: true, error: 'CloudUnavailable' }]);
  t.match(await issuer.findRoutedIP(query), { address: '203.0.113.1' });
});

t.test('faults can target one account and persist until cleared', async (t) => {
  const { cloud, issuer, account } = memoryIssuer({ firewalls: ['public'] });
  const other = memoryIssuer({ cloud, name: 'other', firewalls: ['public'] });
  const limited = new IssuerRateLimitError('slow down', 30);
  cloud.failAlways('findRoutedIPFirewall', limited, { account });
  await t.rejects(issuer.findRoutedIPFirewall('public', owner), limited);
  await t.rejects(issuer.findRoutedIPFirewall('public', owner), { name: 'IssuerRateLimitError', retryAfterSeconds: 30 });
  t.ok(await other.issuer.findRoutedIPFirewall('public', owner), 'another account is not affected');
  cloud.clearFaults();
  t.ok(await issuer.findRoutedIPFirewall('public', owner));
});

t.test('snapshots and observations are deep copies', async (t) => {
  const { cloud, issuer, account } = memoryIssuer({ firewalls: ['public'] });
  const ip = await issuer.createRoutedIP(owner, n1);
  (ip as { holder?: string }).holder = 'mutated';
  const snap = cloud.snapshot(account);
  snap.ips[0]!.tags['routedip.io/uid'] = 'stolen';
  snap.firewalls[0]!.nodes.push('intruder');
  const calls = cloud.calls();
  (calls[0] as { args: string }).args = 'rewritten';
  t.same(cloud.snapshot(account), {
    account, ipLimit: 10,
    ips: [{ address: '203.0.113.1', id: 'ip-1', tags: { 'routedip.io/uid': 'uid-x', 'routedip.io/owner': 'ingress/x' } }],
    firewalls: [{ id: 'fw-1', name: 'public', rules: [], nodes: [] }],
  });
  t.equal(cloud.calls()[0]?.args, 'ingress/x node=n1');
  t.match(await issuer.findRoutedIP(query), { address: '203.0.113.1' });
});

t.test('an unexpected failure inside an operation surfaces as an IssuerError', async (t) => {
  const { cloud, issuer } = memoryIssuer({ firewalls: ['public'] });
  const fw = (await issuer.findRoutedIPFirewall('public', owner))!;
  // A rule whose sources is not an array is what a buggy caller could send at runtime.
  const broken = { protocol: 'tcp', port: 80, sources: 42 } as unknown as typeof rule;
  await t.rejects(issuer.addRoutedIPFirewallPort(fw, [broken], owner), { name: 'IssuerUnavailableError', reason: 'CloudUnavailable' });
  t.match(cloud.calls().at(-1), { method: 'addRoutedIPFirewallPort', changed: false, error: 'CloudUnavailable' });
});
