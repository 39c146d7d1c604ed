/**
 * The scenario suite both EC2 peers run (fake and moto): the same calls through POST /sync and
 * /finalize, the same assertions on the cloud as read back through the SDK. A peer that
 * disagrees with the other fails here.
 */
import { AllocateAddressCommand, AuthorizeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import type { Test } from 'tap';
import { routedIP } from '../fixtures/k8s.js';
import type { Ec2Peer } from './peers.js';
import { AwsWorld, condition } from './world.js';
import { DEFAULT_READ_CACHE_SECONDS } from '../../src/issuers/session.js';

const MARK = 'routedip:ingress/public';
const FOREIGN = 'tcp/22 10.0.0.0/8 bastion';
const ours = (...ports: number[]) => ports.flatMap((p) => [`tcp/${p} 0.0.0.0/0 ${MARK}`, `tcp/${p} ::/0 ${MARK}`]);

/** Authorizes one marked range through the admin client (another operator, or an earlier version of ours, wrote it). */
async function authorize(w: AwsWorld, port: number, cidr: string, description: string): Promise<void> {
  const range = cidr.includes(':') ? { Ipv6Ranges: [{ CidrIpv6: cidr, Description: description }] } : { IpRanges: [{ CidrIp: cidr, Description: description }] };
  await w.peer.admin.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: w.groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, ...range }] }));
}

/** Registers every shared scenario on `t` against `peer`. */
export function sharedScenarios(t: Test, peer: () => Ec2Peer): void {
  t.test('first assignment: firewall first, then allocate and associate; a second sync writes nothing', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    const first = await w.sync();
    t.equal(first.statusCode, 200);
    t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(w.status.conditions));
    const holder = w.status.node as string;
    t.ok(['n1', 'n2'].includes(holder));
    t.same(w.writes, ['authorizeSecurityGroupIngress', 'modifyNetworkInterfaceAttribute', 'allocateAddress', 'associateAddress'], 'availability order');
    const addresses = await w.addresses();
    t.equal(addresses.length, 1, 'exactly one Elastic IP');
    t.match(addresses[0], { publicIp: w.status.address, node: holder, tags: { 'routedip.io/owner': 'ingress/public', 'routedip.io/uid': 'uid-public' } });
    t.same(await w.rules(), [...ours(443, 80), FOREIGN].sort());
    t.same(await w.groupsOf(holder), [[w.baseGroupId, w.groupId].sort()], 'group added, the node\'s own group kept');
    t.same(w.status.firewall?.id, w.groupId);

    w.writes.length = 0;
    const second = await w.sync();
    t.same(w.writes, [], 'a converged sync makes no mutating call');
    const third = await w.sync();
    t.equal(third.raw, second.raw, 'same inputs, same status bytes');
  });

  t.test('failover: new node joins the group, the address moves, then the old node leaves', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    await w.sync();
    const from = w.status.node as string;
    const to = from === 'n1' ? 'n2' : 'n1';
    w.nodes = w.nodes.map((n) => (n.metadata.name === from ? { ...n, status: { conditions: [{ type: 'Ready', status: 'False' }] } } : n));
    w.writes.length = 0;
    const moved = await w.sync();
    t.equal(moved.statusCode, 200);
    t.equal(w.status.node, to);
    t.same(w.writes, ['modifyNetworkInterfaceAttribute', 'associateAddress', 'modifyNetworkInterfaceAttribute'], 'join, move, leave');
    t.match(await w.addresses(), [{ node: to }]);
    t.equal((await w.addresses()).length, 1);
    t.same(await w.groupsOf(from), [[w.baseGroupId]], 'old node back to its own group only');
    t.same(await w.groupsOf(to), [[w.baseGroupId, w.groupId].sort()]);
  });

  t.test('port change: the new port opens before the old one is revoked; foreign rule kept', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    await w.sync();
    w.ports = [443, 8443];
    w.writes.length = 0;
    await w.sync();
    t.same(w.writes, ['authorizeSecurityGroupIngress', 'revokeSecurityGroupIngress', 'revokeSecurityGroupIngress']);
    t.same(await w.rules(), [...ours(443, 8443), FOREIGN].sort());
    t.equal(condition(w.status, 'Ready')?.status, 'True');
  });

  t.test('narrowing firewallSourceRanges revokes our ranges no longer wanted; foreign ranges stay', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    await w.sync();
    w.issuerSpec = { ...w.issuerSpec, firewallSourceRanges: ['203.0.113.0/24'] };
    await w.sync();
    t.same(await w.rules(), [`tcp/443 203.0.113.0/24 ${MARK}`, `tcp/80 203.0.113.0/24 ${MARK}`, FOREIGN].sort(), 'nothing stays open to the world');
    t.equal(condition(w.status, 'FirewallReady')?.reason, 'FirewallConverged');
    w.writes.length = 0;
    await w.sync();
    t.same(w.writes, [], 'converged');
  });

  t.test('a foreign range on a port we need is used, never revoked', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    await peer().admin.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: w.groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'web team' }] }] }));
    await w.sync();
    t.same(await w.rules(), [`tcp/443 ::/0 ${MARK}`, ...ours(80), 'tcp/443 0.0.0.0/0 web team', FOREIGN].sort(), 'only the missing source was added');
    t.ok(await w.finalizeAll(), 'finalized');
    t.same(await w.rules(), ['tcp/443 0.0.0.0/0 web team', FOREIGN].sort(), 'only our marked ranges were revoked');
  });

  t.test('adopt spec.address: associated, never tagged, only disassociated by a Delete finalize', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    const adopted = (await peer().admin.send(new AllocateAddressCommand({ Domain: 'vpc' }))).PublicIp as string;
    w.parent = routedIP('public', { serviceRef: { name: 'ingress-nginx' }, address: adopted });
    await w.sync();
    t.equal(w.status.address, adopted);
    t.same(w.writes.filter((m) => m === 'allocateAddress'), [], 'nothing allocated');
    t.match(await w.addresses(), [{ publicIp: adopted, node: w.status.node, tags: {} }]);
    t.ok(await w.finalizeAll());
    t.same(await w.addresses(), [{ publicIp: adopted, tags: {} }], 'still allocated, detached');
    t.same(w.writes.filter((m) => m === 'releaseAddress'), [], 'never released');
  });

  t.test('finalize under Retain leaves every cloud resource', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    w.issuerSpec = { ...w.issuerSpec, routedIPReclaimPolicy: 'Retain' };
    await w.sync();
    const holder = w.status.node as string;
    w.writes.length = 0;
    t.ok(await w.finalizeAll());
    t.same(w.writes, [], 'no mutating call');
    t.match(await w.addresses(), [{ node: holder }]);
    t.same(await w.rules(), [...ours(443, 80), FOREIGN].sort());
  });

  t.test('finalize under Delete: disassociate, release, revoke ours, leave the group', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    await w.sync();
    const holder = w.status.node as string;
    w.writes.length = 0;
    t.ok(await w.finalizeAll(), 'finalized once observed clean');
    t.same(w.writes.slice(0, 2), ['disassociateAddress', 'releaseAddress']);
    t.same(await w.addresses(), []);
    t.same(await w.rules(), [FOREIGN]);
    t.same(await w.groupsOf(holder), [[w.baseGroupId]]);
  });

  t.test('multi-ENI nodes: associate on the primary interface, the second interface untouched', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    await w.addSecondInterface('n1');
    await w.addSecondInterface('n2');
    await w.sync();
    t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(w.status.conditions));
    const holder = w.status.node as string;
    t.match(await w.addresses(), [{ node: holder }]);
    t.same(await w.groupsOf(holder), [[w.baseGroupId, w.groupId].sort(), [w.baseGroupId]]);
  });

  t.test('the group on a secondary interface only does not count: it is added to the primary one, where traffic arrives (issue 8 item 5)', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    await w.addSecondInterface('n1', [w.baseGroupId, w.groupId]);
    await w.addSecondInterface('n2', [w.baseGroupId, w.groupId]);
    await w.sync();
    t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(w.status.conditions));
    const holder = w.status.node as string;
    t.same(await w.groupsOf(holder), [[w.baseGroupId, w.groupId].sort(), [w.baseGroupId, w.groupId].sort()], 'the group joined the primary interface');
    t.ok(w.writes.indexOf('modifyNetworkInterfaceAttribute') < w.writes.indexOf('associateAddress'), 'before the address was associated');
    t.same(w.status.firewall?.nodes, [w.instance(holder)], 'the holder is the node this RoutedIP added');
    t.ok(await w.finalizeAll());
    t.same(await w.groupsOf(holder), [[w.baseGroupId], [w.baseGroupId, w.groupId].sort()], 'only our membership (the primary interface) is removed; the secondary one is left as found');
  });

  t.test('VPC CNI nodes (pod IPs on the primary interface): a node whose primary private IP holds another address is never elected (issue 8 item 4)', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    for (const n of ['n1', 'n2']) await w.addSecondaryIps(n, 2);
    await w.foreignAddressOn('n1');
    const other = await w.foreignAddressOn('n2');
    const before = { n1: await w.onPrimary('n1'), n2: await w.onPrimary('n2') };
    await w.sync();
    t.match(w.status.steps.find((s) => s.name === 'ElectRoutedIPNode'), { outcome: 'failed', detail: /EveryNodeHoldsAnAddress/ });
    t.equal(condition(w.status, 'Ready')?.status, 'False');
    t.same(w.writes, [], 'nothing allocated, no firewall change, no pod IP taken');
    t.same(await w.onPrimary('n1'), before.n1);
    t.same(await w.onPrimary('n2'), before.n2);

    await w.dropAddress(other);
    // Drift made outside the operator is noticed once the account's cached reads expire
    // (docs/performance.md): an unchanged failed election is only confirmed until then.
    await w.sync();
    t.equal(w.status.node, undefined, 'within the read cache TTL the cached occupancy is only confirmed');
    t.same(w.writes, [], 'and nothing is written from it');
    w.clock.advance(DEFAULT_READ_CACHE_SECONDS + 1);
    await w.sync();
    t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(w.status.conditions));
    t.equal(w.status.node, 'n2', 'the node whose primary private IP is free');
    t.same(await w.onPrimary('n2'), [`${w.status.address}@${(await w.primaryEni('n2')).privateIps[0]}`], 'on the primary private IP, not a pod IP');
    t.same(await w.onPrimary('n1'), before.n1, 'the other address untouched');
  });

  t.test('a second RoutedIP never lands on a pod IP of the node holding the first (issue 8 item 4)', async (t) => {
    const a = await new AwsWorld(peer()).start(t, ['n1']);
    await a.addSecondaryIps('n1', 2);
    await a.sync();
    t.equal(a.status.node, 'n1');
    const b = a.sibling('second');
    b.related = [a.parent];
    a.writes.length = 0;
    await b.sync();
    t.match(b.status.steps.find((s) => s.name === 'ElectRoutedIPNode'), { outcome: 'failed', detail: /EveryNodeHoldsAnAddress/ });
    t.same(b.writes, [], 'nothing allocated for the second one');
    t.same(await a.onPrimary('n1'), [`${a.status.address}@${(await a.primaryEni('n1')).privateIps[0]}`], 'n1 holds only the first address, on its primary private IP');
  });

  t.test('a rule left for a sibling is handed over before the RoutedIP that added it goes (issue 12 item 6c)', async (t) => {
    const a = await new AwsWorld(peer()).start(t);
    await a.sync();
    const b = a.sibling('second');
    b.related = [{ ...a.parent, status: undefined }]; // a stale view: b cannot know a added the rules
    await b.sync();
    a.related = [b.parent];
    t.equal((await a.finalize()).body.finalized, false, 'a waits for the handover');
    b.related = [a.parent];
    await b.sync();
    a.related = [b.parent];
    t.ok(await a.finalizeAll(), 'a goes once b records the rules');
    t.same(await a.rules(), [...ours(443, 80), FOREIGN].sort(), 'b still needs them');
    b.related = [];
    t.ok(await b.finalizeAll());
    t.same(await b.rules(), [FOREIGN], 'nothing stays open to the world after both are gone');
    t.same(await b.addresses(), [], 'both addresses released');
  });

  t.test('two clusters share the group: our marks name our cluster, an old-form mark stays ours, another cluster\'s ranges are never touched', async (t) => {
    const w = await new AwsWorld(peer()).start(t, ['n1', 'n2'], {}, { clusterName: 'prod-eu' });
    const NEW = `${MARK}@prod-eu`;
    const THEIRS = `${MARK}@staging`; // the same namespace and name, in another cluster
    await authorize(w, 443, '0.0.0.0/0', THEIRS);
    await authorize(w, 8443, '0.0.0.0/0', THEIRS);
    await authorize(w, 80, '0.0.0.0/0', MARK); // written by this operator before CLUSTER_NAME was set
    await w.sync();
    t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(w.status.conditions));
    const shared = [`tcp/443 0.0.0.0/0 ${THEIRS}`, `tcp/8443 0.0.0.0/0 ${THEIRS}`, FOREIGN];
    t.same(await w.rules(), [`tcp/443 ::/0 ${NEW}`, `tcp/80 0.0.0.0/0 ${MARK}`, `tcp/80 ::/0 ${NEW}`, ...shared].sort(), 'only the missing pairs added, under our cluster\'s mark; the old-form range kept, not duplicated');
    t.same(w.status.firewall?.addedPorts, [{ protocol: 'tcp', port: 80, sources: ['0.0.0.0/0', '::/0'] }, { protocol: 'tcp', port: 443, sources: ['::/0'] }], 'the old-form range is ours, the other cluster\'s is not');

    // A status claiming the other cluster's ranges (a stale one, or an add of theirs that landed
    // between our claim and ours): still never ours.
    const fw = w.status.firewall;
    if (fw) w.parent = { ...w.parent, status: { ...w.status, firewall: { ...fw, addedPorts: [...fw.addedPorts, { protocol: 'tcp', port: 443, sources: ['0.0.0.0/0', '::/0'] }, { protocol: 'tcp', port: 8443, sources: ['0.0.0.0/0'] }] } } };
    w.writes.length = 0;
    await w.sync();
    t.same(w.writes, [], 'nothing revoked');
    t.match(w.status.steps?.find((s) => s.name === 'DeleteRoutedIPFirewallPort'), { outcome: 'skipped' }, 'no revoke even planned');
    t.notMatch(JSON.stringify(w.status.firewall?.addedPorts), /8443/, 'the claim on their range is dropped');
    t.ok(await w.finalizeAll(), 'finalized: never waits on a range it may not revoke');
    t.same(await w.rules(), shared.sort(), 'ours gone, both forms; theirs and the foreign one kept');
  });

  t.test('an operator without CLUSTER_NAME writes the old form and never touches a cluster\'s marks', async (t) => {
    const w = await new AwsWorld(peer()).start(t);
    const THEIRS = `${MARK}@prod-eu`;
    await authorize(w, 8443, '0.0.0.0/0', THEIRS);
    await authorize(w, 443, '::/0', THEIRS);
    await w.sync();
    t.same(await w.rules(), [`tcp/443 0.0.0.0/0 ${MARK}`, `tcp/443 ::/0 ${THEIRS}`, ...ours(80), `tcp/8443 0.0.0.0/0 ${THEIRS}`, FOREIGN].sort());
    t.ok(await w.finalizeAll());
    t.same(await w.rules(), [`tcp/443 ::/0 ${THEIRS}`, `tcp/8443 0.0.0.0/0 ${THEIRS}`, FOREIGN].sort());
  });
}
