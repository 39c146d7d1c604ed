/** The memory issuer's own behaviour: allocation, quota, adoption, firewalls, accounts. */
import t from 'tap';
import { IssuerInvalidError, IssuerNotFoundError, IssuerQuotaError } from '../../src/issuers/errors.js';
import type { RoutedIPOwner } from '../../src/issuers/issuer.js';
import { MemoryCloud, UID_TAG } from '../../src/issuers/memory/cloud.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { node, withProviderID } from '../fixtures/k8s.js';
import { memoryContext, memoryIssuer } from './memory-helpers.js';

const owner = (name: string): RoutedIPOwner => ({ namespace: 'ingress', name, uid: `uid-${name}` });
const n1 = { node: 'n1', id: 'n1' };
const n2 = { node: 'n2', id: 'n2' };
const find = (name: string, address?: string) => ({ owner: owner(name), nodes: [n1, n2], foreignAddresses: [], ...(address ? { address } : {}) });

t.test('nodeTarget accepts every node: its name is its id, providerID or not', async (t) => {
  const { issuer } = memoryIssuer();
  t.same(issuer.nodeTarget(node('n1')), { node: 'n1', id: 'n1' });
  t.same(issuer.nodeTarget(node('n2', withProviderID('digitalocean://42'))), { node: 'n2', id: 'n2' });
  t.equal(issuer.provider, 'memory');
});

t.test('allocation takes the lowest free address, never one still allocated, across accounts', async (t) => {
  const cloud = new MemoryCloud();
  const a = memoryIssuer({ cloud, name: 'a' });
  const b = memoryIssuer({ cloud, name: 'b' });
  const first = await a.issuer.createRoutedIP(owner('one'), n1);
  const second = await b.issuer.createRoutedIP(owner('two'), n1);
  t.same([first.address, second.address], ['203.0.113.1', '203.0.113.2']);
  t.equal(first.holder, undefined, 'created unassigned; the core assigns next');
  await a.issuer.releaseRoutedIP(first);
  const third = await b.issuer.createRoutedIP(owner('three'), n1);
  t.equal(third.address, '203.0.113.1', 'a released address is free again');
  t.not(third.id, first.id, 'ids are never reused');
  t.same(cloud.snapshot('ingress/a').ips, []);
  t.match(cloud.snapshot('ingress/b').ips, [{ tags: { [UID_TAG]: 'uid-two', 'routedip.io/owner': 'ingress/two' } }, { address: '203.0.113.1' }]);
});

t.test('a second create is not deduplicated: leaks stay visible to tests', async (t) => {
  const { cloud, issuer, account } = memoryIssuer();
  await issuer.createRoutedIP(owner('x'), n1);
  await issuer.createRoutedIP(owner('x'), n1);
  t.equal(cloud.snapshot(account).ips.filter((ip) => ip.tags[UID_TAG] === 'uid-x').length, 2);
  t.equal((await issuer.findRoutedIP(find('x')))?.address, '203.0.113.1', 'find returns the oldest, deterministically');
});

t.test('the account IP limit raises IssuerQuotaError and allocates nothing', async (t) => {
  const cloud = new MemoryCloud({ ipLimit: 1 });
  const { issuer, account } = memoryIssuer({ cloud });
  await issuer.createRoutedIP(owner('a'), n1);
  await t.rejects(issuer.createRoutedIP(owner('b'), n1), new IssuerQuotaError('account ingress/cloud already holds its limit of 1 addresses', 'AddressLimitExceeded'));
  t.equal(cloud.snapshot(account).ips.length, 1);
  cloud.setIPLimit(account, 2);
  t.equal((await issuer.createRoutedIP(owner('b'), n1)).address, '203.0.113.2');
});

t.test('adoption: spec.address finds a foreign address untouched; an unknown one is AddressNotFound', async (t) => {
  const { cloud, issuer, account } = memoryIssuer();
  cloud.seedAddress(account, { address: '198.51.100.7', holder: 'legacy' });
  t.match(await issuer.findRoutedIP(find('x', '198.51.100.7')), { address: '198.51.100.7', holder: 'legacy' });
  t.equal(await issuer.findRoutedIP(find('x')), undefined, 'an untagged address is never found by owner');
  const err = await issuer.findRoutedIP(find('x', '203.0.113.9')).catch((e: unknown) => e);
  t.ok(err instanceof IssuerNotFoundError);
  t.match(err, { reason: 'AddressNotFound', message: 'address 203.0.113.9 does not exist in account ingress/cloud' });
  t.throws(() => cloud.seedAddress(account, { address: '198.51.100.7' }), /already allocated/);
});

t.test('releasing an assigned address is refused; the address stays', async (t) => {
  const { cloud, issuer, account } = memoryIssuer();
  const ip = await issuer.createRoutedIP(owner('x'), n1);
  await issuer.assignRoutedIP(ip, n1);
  const err = await issuer.releaseRoutedIP(ip).catch((e: unknown) => e);
  t.ok(err instanceof IssuerInvalidError);
  t.match(err, { reason: 'AddressInUse' });
  t.match(cloud.snapshot(account).ips, [{ address: ip.address, holder: 'n1' }]);
});

t.test('assign moves the holder; an out-of-band move is observed', async (t) => {
  const { cloud, issuer, account } = memoryIssuer();
  const ip = await issuer.createRoutedIP(owner('x'), n1);
  t.same(await issuer.assignRoutedIP(ip, n1), { done: true });
  t.same(await issuer.assignRoutedIP(ip, n2), { done: true });
  t.same(await issuer.findRoutedIP(find('x')), { address: ip.address, id: ip.id, holder: 'n2' });
  cloud.moveAddress(account, ip.address, undefined);
  t.same(await issuer.findRoutedIP(find('x')), { address: ip.address, id: ip.id });
  t.throws(() => cloud.moveAddress(account, '203.0.113.99', 'n1'), /not in account/);
});

t.test('firewalls: listed ones exist once, unlisted ones do not, rules merge per port', async (t) => {
  const cloud = new MemoryCloud();
  const { issuer, account } = memoryIssuer({ cloud, firewalls: ['public', 'admin'] });
  memoryIssuer({ cloud, firewalls: ['public'] }); // building again must not duplicate
  t.same(cloud.snapshot(account).firewalls.map((f) => [f.id, f.name]), [['fw-1', 'public'], ['fw-2', 'admin']]);
  t.equal(await issuer.findRoutedIPFirewall('other', owner('x')), undefined);

  cloud.seedFirewall(account, 'public', { rules: [{ protocol: 'tcp', port: 443, sources: ['10.0.0.0/8'] }], nodes: ['zeta', 'alpha'] });
  const fw = (await issuer.findRoutedIPFirewall('public', owner('x')))!;
  await issuer.addRoutedIPFirewallPort(fw, [{ protocol: 'tcp', port: 443, sources: ['0.0.0.0/0', '10.0.0.0/8'] }, { protocol: 'udp', port: 443, sources: ['0.0.0.0/0'] }], owner('x'));
  t.same(cloud.snapshot(account).firewalls[0]?.rules, [
    { protocol: 'tcp', port: 443, sources: ['10.0.0.0/8'] },
    { protocol: 'tcp', port: 443, sources: ['0.0.0.0/0'] },
    { protocol: 'udp', port: 443, sources: ['0.0.0.0/0'] },
  ], 'stored as separate unmarked rules; only the missing source was added');
  t.same(await issuer.findRoutedIPFirewall('public', owner('x')), {
    id: 'fw-1', name: 'public', nodes: ['alpha', 'zeta'],
    rules: [{ protocol: 'tcp', port: 443, sources: ['0.0.0.0/0', '10.0.0.0/8'] }, { protocol: 'udp', port: 443, sources: ['0.0.0.0/0'] }],
  }, 'observed merged and sorted, with no ownedPorts (ownership comes from status)');

  await issuer.deleteRoutedIPFirewallPort(fw, [{ protocol: 'tcp', port: 443, sources: ['0.0.0.0/0'] }, { protocol: 'udp', port: 443, sources: ['0.0.0.0/0'] }], owner('x'));
  t.same(cloud.observedRules(account, 'public'), [{ protocol: 'tcp', port: 443, sources: ['10.0.0.0/8'] }], 'the foreign source stays');
});

t.test('firewall writes: invalid rules and a vanished firewall are IssuerErrors', async (t) => {
  const { cloud, issuer, account } = memoryIssuer({ firewalls: ['public'] });
  const fw = (await issuer.findRoutedIPFirewall('public', owner('x')))!;
  await t.rejects(issuer.addRoutedIPFirewallPort(fw, [{ protocol: 'tcp', port: 0, sources: ['0.0.0.0/0'] }], owner('x')), { name: 'IssuerInvalidError', reason: 'InvalidRule' });
  await t.rejects(issuer.addRoutedIPFirewallPort(fw, [{ protocol: 'tcp', port: 80, sources: [] }], owner('x')), { name: 'IssuerInvalidError', reason: 'InvalidRule' });
  cloud.removeFirewall(account, 'public');
  await t.rejects(issuer.addRoutedIPFirewallNode(fw, n1), { name: 'IssuerNotFoundError', reason: 'FirewallNotFound' });
  t.equal(await issuer.findRoutedIPFirewall('public', owner('x')), undefined);
});

t.test('accounts are isolated: one issuer never sees another issuer\'s addresses or firewalls', async (t) => {
  const cloud = new MemoryCloud();
  const a = memoryIssuer({ cloud, name: 'a', firewalls: ['public'] });
  const b = memoryIssuer({ cloud, name: 'b' });
  const ip = await a.issuer.createRoutedIP(owner('x'), n1);
  t.equal(await b.issuer.findRoutedIP(find('x')), undefined);
  await t.rejects(b.issuer.findRoutedIP(find('x', ip.address)), { name: 'IssuerNotFoundError', reason: 'AddressNotFound' });
  t.equal(await b.issuer.findRoutedIPFirewall('public', owner('x')), undefined);
  t.same(cloud.accountKeys(), ['ingress/a', 'ingress/b']);
});

t.test('the default registry shares one cloud across hook calls', async (t) => {
  const cloud = new MemoryCloud();
  const registry = createIssuerRegistry({ memoryCloud: cloud });
  const first = await registry.memory!(memoryContext('shared', { memory: { firewalls: ['public'] } }));
  const ip = await first.createRoutedIP(owner('x'), n1);
  const second = await registry.memory!(memoryContext('shared', { memory: { firewalls: ['public'] } }));
  t.same(await second.findRoutedIP(find('x')), ip, 'state persists across issuers built per call');
  t.equal(cloud.snapshot('ingress/shared').firewalls.length, 1);
});

t.test('an exhausted 203.0.113.0/24 pool is a quota error', async (t) => {
  const { cloud, issuer, account } = memoryIssuer({ cloud: new MemoryCloud({ ipLimit: 300 }) });
  for (let host = 1; host <= 254; host++) cloud.seedAddress(account);
  t.equal(cloud.snapshot(account).ips.at(-1)?.address, '203.0.113.254');
  await t.rejects(issuer.createRoutedIP(owner('x'), n1), { name: 'IssuerQuotaError', reason: 'AddressPoolExhausted' });
});

t.test('every record the account answers is a copy: changing it changes nothing stored', async (t) => {
  const cloud = new MemoryCloud();
  const account = cloud.account('ingress/copies');
  const ip = account.allocate({ [UID_TAG]: 'uid-x' }, 'n1').result;
  const fw = account.ensureFirewall('public').result;
  account.addRules(fw.id, [{ protocol: 'tcp', port: 443, sources: ['0.0.0.0/0'] }]);
  const answers = () => [account.ipByTag(UID_TAG, 'uid-x')!, account.ipByAddress(ip.address)!, account.listIPs()[0]!];
  for (const answer of [ip, ...answers()]) {
    answer.tags[UID_TAG] = 'changed';
    answer.holder = 'elsewhere';
  }
  t.same(answers(), Array(3).fill({ address: ip.address, id: ip.id, holder: 'n1', tags: { [UID_TAG]: 'uid-x' } }));
  for (const answer of [fw, account.firewallByName('public')!, account.listFirewalls()[0]!]) {
    answer.nodes.push('intruder');
    answer.rules[0]?.sources.push('10.0.0.0/8');
    answer.rules.push({ protocol: 'udp', port: 53, sources: [] });
  }
  t.same(account.firewallByName('public'), { id: fw.id, name: 'public', rules: [{ protocol: 'tcp', port: 443, sources: ['0.0.0.0/0'] }], nodes: [] });
});
