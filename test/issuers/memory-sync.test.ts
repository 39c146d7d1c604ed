/**
 * The memory cloud behind the real hooks: what PRODUCT.md promises of the `memory` issuer,
 * checked through POST /sync and /finalize (app.inject) against the cloud's own state.
 */
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { IssuerUnavailableError } from '../../src/issuers/errors.js';
import { MemoryCloud, UID_TAG } from '../../src/issuers/memory/cloud.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import type { RoutedIPObject } from '../../src/schemas/routed-ip.js';
import { endpointSlice, issuer, node, notReady, routedIP, service, syncRequest, type World } from '../fixtures/k8s.js';
import { buildTestApp, finalize, sync, syncSettled, testClock } from '../helpers/app.js';
import type { SyncRequest } from '../../src/schemas/metacontroller.js';

const ACCOUNT = 'ingress/cloud';
const FOREIGN_RULE = { protocol: 'tcp' as const, port: 22, sources: ['10.0.0.0/8'] };

/** An app on a fresh cloud whose firewall `public` already holds a foreign rule and node. */
async function setup(t: Test) {
  const cloud = new MemoryCloud();
  cloud.seedFirewall(ACCOUNT, 'public', { rules: [FOREIGN_RULE], nodes: ['bastion'] });
  const { app } = await buildTestApp(t, { registry: createIssuerRegistry({ memoryCloud: cloud }), clock: testClock().now });
  const world = (parent: RoutedIPObject, n1Ready = true): World => ({
    parent,
    issuers: [issuer('cloud', { memory: { firewalls: ['public'] }, routedIPFirewallName: 'public', routedIPReclaimPolicy: 'Delete', firewallSourceRanges: ['0.0.0.0/0'] })],
    nodes: [n1Ready ? node('n1') : node('n1', notReady()), node('n2')],
    services: [service('ingress-nginx', [443])],
    endpointSlices: [endpointSlice('ingress-nginx', [{ nodeName: 'n1' }, { nodeName: 'n2' }], [443])],
  });
  return { cloud, app, world };
}

/** Calls /finalize, feeding each answer's status back, until `finalized` (at most 5 calls). */
async function finalizeAll(app: FastifyInstance, world: (status: unknown) => World, status: unknown): Promise<boolean> {
  for (let i = 0; i < 5; i++) {
    const answer = await finalize(app, syncRequest(world(status)));
    if (answer.body.finalized === true) return true;
    status = answer.body.status;
  }
  return false;
}

const withStatus = (parent: RoutedIPObject, status: unknown): RoutedIPObject => ({ ...parent, status });

/**
 * POST /sync for `parent`, then again with the answered status while an answer only recorded a
 * firewall claim: Metacontroller's status write triggers that next sync at once.
 */
async function syncFed(app: FastifyInstance, request: (parent: RoutedIPObject) => SyncRequest, parent: RoutedIPObject) {
  let current = parent;
  return syncSettled(async () => {
    const answer = await sync(app, request(current));
    if (answer.statusCode === 200) current = withStatus(current, answer.body.status);
    return answer;
  });
}
const ours = (cloud: MemoryCloud) => cloud.snapshot(ACCOUNT).ips.filter((ip) => ip.tags[UID_TAG] === 'uid-public');

t.test('first sync converges on the memory cloud; the next one makes zero writes and the same status', async (t) => {
  const { cloud, app, world } = await setup(t);
  const parent = routedIP('public', { serviceRef: { name: 'ingress-nginx' } });
  const first = await syncFed(app, (p) => syncRequest(world(p)), parent);
  t.equal(first.statusCode, 200);
  t.match(first.body.status, { address: '203.0.113.1', node: 'n1', provider: 'memory' });
  t.match(first.body.status.conditions.find((c) => c.type === 'Ready'), { status: 'True' });
  t.match(ours(cloud), [{ address: '203.0.113.1', holder: 'n1' }]);
  t.same(cloud.observedRules(ACCOUNT, 'public'), [{ protocol: 'tcp', port: 22, sources: ['10.0.0.0/8'] }, { protocol: 'tcp', port: 443, sources: ['0.0.0.0/0'] }]);
  t.same(cloud.snapshot(ACCOUNT).firewalls[0]?.nodes, ['bastion', 'n1']);

  cloud.clearCalls();
  const second = await syncFed(app, (p) => syncRequest(world(p)), withStatus(parent, first.body.status));
  t.same(cloud.writes(), [], 'a converged sync makes no mutating call');
  t.same(second.body.status.conditions, first.body.status.conditions, 'no condition transition');
  const third = await syncFed(app, (p) => syncRequest(world(p)), withStatus(parent, second.body.status));
  t.same(cloud.writes(), [], 'still no mutating call');
  t.equal(third.raw, second.raw, 'same inputs, same status bytes');
});

t.test('a lost createRoutedIP response never leaks a second address', async (t) => {
  const { cloud, app, world } = await setup(t);
  const parent = routedIP('public', { serviceRef: { name: 'ingress-nginx' } });
  cloud.failNext('createRoutedIP', new IssuerUnavailableError('connection reset'), { afterEffect: true });
  const lost = await syncFed(app, (p) => syncRequest(world(p)), parent);
  t.equal(lost.statusCode, 200, 'a cloud failure is not a 5xx');
  t.ok(lost.body.resyncAfterSeconds, 'retried later');
  // Stale status: Metacontroller may hand back the parent without the failed sync's status.
  const retried = await syncFed(app, (p) => syncRequest(world(p)), parent);
  t.match(retried.body.status, { address: '203.0.113.1', node: 'n1' });
  t.equal(ours(cloud).length, 1, 'exactly one address for this RoutedIP');
});

t.test('a move keeps foreign firewall entries; Delete finalize leaves only them', async (t) => {
  const { cloud, app, world } = await setup(t);
  const parent = routedIP('public', { serviceRef: { name: 'ingress-nginx' } });
  const first = await syncFed(app, (p) => syncRequest(world(p)), parent);
  const moved = await syncFed(app, (p) => syncRequest(world(p, false)), withStatus(parent, first.body.status));
  t.match(moved.body.status, { node: 'n2' });
  t.match(ours(cloud), [{ holder: 'n2' }]);
  t.same(cloud.snapshot(ACCOUNT).firewalls[0]?.nodes, ['bastion', 'n2'], 'n1 removed after the move, bastion kept');

  t.ok(await finalizeAll(app, (status) => ({ ...world(withStatus(parent, status), false), finalizing: true }), moved.body.status), 'finalized once the cloud is observed clean');
  t.same(ours(cloud), [], 'the created address is released');
  t.same(cloud.observedRules(ACCOUNT, 'public'), [FOREIGN_RULE]);
  t.same(cloud.snapshot(ACCOUNT).firewalls[0]?.nodes, ['bastion']);
});

t.test('an adopted spec.address is only unassigned on a Delete finalize, never released', async (t) => {
  const { cloud, app, world } = await setup(t);
  cloud.seedAddress(ACCOUNT, { address: '198.51.100.7', holder: 'legacy' });
  const parent = routedIP('public', { serviceRef: { name: 'ingress-nginx' }, address: '198.51.100.7' });
  const first = await syncFed(app, (p) => syncRequest(world(p)), parent);
  t.match(first.body.status, { address: '198.51.100.7', node: 'n1' });
  t.same(ours(cloud), [], 'adoption adds no tag and creates nothing');
  t.ok(await finalizeAll(app, (status) => ({ ...world(withStatus(parent, status)), finalizing: true }), first.body.status));
  t.same(cloud.snapshot(ACCOUNT).ips.map((ip) => [ip.address, ip.holder]), [['198.51.100.7', undefined]], 'still allocated, detached');
});

t.test('two RoutedIPs share a port: finalizing one keeps what the other still needs', async (t) => {
  const { cloud, app, world } = await setup(t);
  const a = routedIP('public', { serviceRef: { name: 'ingress-nginx' } });
  const b = routedIP('private', { serviceRef: { name: 'ingress-nginx' } });
  const syncA = await syncFed(app, (p) => syncRequest(world(p)), a);
  const aWithStatus = withStatus(a, syncA.body.status);
  const syncB = await syncFed(app, (p) => syncRequest({ ...world(p), routedIPs: [aWithStatus] }), b);
  t.equal(cloud.snapshot(ACCOUNT).ips.length, 2, 'one address each');
  const bWithStatus = withStatus(b, syncB.body.status);
  t.ok(await finalizeAll(app, (status) => ({ ...world(withStatus(a, status)), routedIPs: [bWithStatus], finalizing: true }), syncA.body.status));
  t.match(cloud.snapshot(ACCOUNT).ips, [{ tags: { [UID_TAG]: 'uid-private' } }]);
  t.same(cloud.observedRules(ACCOUNT, 'public'), [FOREIGN_RULE, { protocol: 'tcp', port: 443, sources: ['0.0.0.0/0'] }], 'tcp/443 stays for the other RoutedIP');
  const holder = cloud.snapshot(ACCOUNT).ips[0]?.holder as string;
  t.same(cloud.snapshot(ACCOUNT).firewalls[0]?.nodes, ['bastion', holder].sort(), 'the finalized one\'s node left, the other\'s stays');
});
