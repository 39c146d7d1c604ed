/**
 * The orphan sweep on AWS, against both EC2 peers (fake and moto), through the issuer controller
 * (POST /issuer/sync) with the production client configuration and the production grace (600 s,
 * on the test clock). The account is shared: addresses of another cluster, of another namespace,
 * made before cluster marks, and people's own are all in it, and only this cluster's unassociated
 * orphan of the issuer's namespace is ever released.
 */
import { AllocateAddressCommand, AssociateAddressCommand, AuthorizeSecurityGroupIngressCommand, DescribeAddressesCommand, RevokeSecurityGroupIngressCommand, type Tag } from '@aws-sdk/client-ec2';
import type { Test } from 'tap';
import { issuer, routedIP, secret } from '../fixtures/k8s.js';
import { IssuerDriver, quietAndSteady } from '../helpers/issuer-driver.js';
import { ISSUER_CHECK_SECONDS } from '../../src/plan/issuer-status.js';
import type { Ec2Peer } from './peers.js';
import { AwsWorld } from './world.js';

const CLUSTER = 'prod-eu';
const GRACE = 600;

/** Allocates an Elastic IP with `tags` through the admin client (someone, or some operator, made it). */
async function allocate(w: AwsWorld, tags: Record<string, string>): Promise<{ id: string; ip: string }> {
  const Tags: Tag[] = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const out = await w.peer.admin.send(new AllocateAddressCommand({ Domain: 'vpc', ...(Tags.length > 0 ? { TagSpecifications: [{ ResourceType: 'elastic-ip', Tags }] } : {}) }));
  return { id: out.AllocationId ?? '', ip: out.PublicIp ?? '' };
}

/** Marks as an operator of cluster `cluster` (none: before cluster marks) writes them for RoutedIP `owner`. */
const marks = (owner: string, uid: string, cluster?: string): Record<string, string> => ({
  'routedip.io/owner': owner,
  'routedip.io/uid': uid,
  ...(cluster !== undefined ? { 'routedip.io/cluster': cluster } : {}),
});

/** Authorizes `tcp/<port> 0.0.0.0/0` described `description` through the admin client. */
async function authorize(w: AwsWorld, port: number, description: string): Promise<void> {
  await w.peer.admin.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: w.groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: description }] }] }));
}

async function publicIps(w: AwsWorld): Promise<string[]> {
  const out = await w.peer.admin.send(new DescribeAddressesCommand({}));
  return (out.Addresses ?? []).map((a) => a.PublicIp ?? '').sort();
}

const driver = (w: AwsWorld, spec = w.issuerSpec) => new IssuerDriver(w.app, issuer('cloud', spec), [secret('aws-creds', w.secretData)]);

/** Registers the orphan scenarios on `t` against `peer`. */
export function orphanScenarios(t: Test, peer: () => Ec2Peer): void {
  t.test('only this cluster\'s unassociated orphan of the namespace is released, after the grace; the rest is never touched', async (t) => {
    const w = await new AwsWorld(peer()).start(t, ['n1'], {}, { clusterName: CLUSTER });
    const orphan = await allocate(w, marks('ingress/gone', 'uid-gone', CLUSTER));
    const legacy = await allocate(w, marks('ingress/old', 'uid-old'));
    const otherCluster = await allocate(w, marks('ingress/gone', 'uid-theirs', 'staging'));
    const otherNamespace = await allocate(w, marks('web/gone', 'uid-web', CLUSTER));
    const foreign = await allocate(w, { Name: 'bastion' });
    const issuerDriver = driver(w);
    const live = [routedIP('public')];
    w.writes.length = 0;

    const first = await issuerDriver.sync(live);
    t.equal(first.code, 200);
    t.same(issuerDriver.orphanAddresses, [orphan.ip, legacy.ip].sort(), 'this cluster\'s orphan and one made before cluster marks; nothing of another cluster or namespace, nothing foreign');
    t.match(issuerDriver.orphansFound, { status: 'True', reason: 'OrphansFound' });
    t.match(first.status.orphans?.find((o) => o.id === orphan.id), { owner: 'ingress/gone', since: '2026-11-23T12:00:00Z' });
    t.equal(first.resyncAfterSeconds, Math.min(ISSUER_CHECK_SECONDS, GRACE), 'comes back by the time the grace is over');
    t.equal(await issuerDriver.metric('routedip_orphans', 'aws'), 2);
    t.same(w.writes, [], 'a first sighting releases nothing');

    w.clock.advance(GRACE / 2);
    const half = await issuerDriver.sync(live);
    t.same(w.writes, [], 'within the grace nothing is released');
    t.equal(half.resyncAfterSeconds, Math.min(ISSUER_CHECK_SECONDS, GRACE / 2));

    w.clock.advance(GRACE / 2);
    const due = await issuerDriver.sync(live);
    t.equal(due.code, 200);
    t.same(w.writes, ['releaseAddress'], 'one release');
    t.same(await publicIps(w), [legacy.ip, otherCluster.ip, otherNamespace.ip, foreign.ip].sort(), 'only this cluster\'s orphan is gone');
    t.same(issuerDriver.orphanAddresses, [legacy.ip], 'the one without a cluster mark stays reported');
    t.match(issuerDriver.orphansFound?.message, /CLUSTER_NAME|released once/);
    t.equal(await issuerDriver.metric('routedip_orphans_released_total', 'aws'), 1);
    t.equal(await issuerDriver.metric('routedip_orphans', 'aws'), 1);

    w.clock.advance(GRACE * 3);
    await quietAndSteady(t, issuerDriver, live, () => w.writes.length, 'an address without our cluster mark is never released');
  });

  t.test('a RoutedIP the issuer\'s view does not show yet, or an associated orphan, is never released', async (t) => {
    const w = await new AwsWorld(peer()).start(t, ['n1', 'n2'], {}, { clusterName: CLUSTER });
    const created = await w.sync();
    t.equal(created.statusCode, 200);
    const mine = (await w.addresses()).find((a) => a.publicIp === w.status.address);
    t.match(mine?.tags, { 'routedip.io/uid': 'uid-public', 'routedip.io/cluster': CLUSTER }, 'a created address carries the cluster mark');
    const inUse = await allocate(w, marks('ingress/gone', 'uid-gone', CLUSTER));
    await w.peer.admin.send(new AssociateAddressCommand({ AllocationId: inUse.id, InstanceId: w.instance('n2') }));
    // A RoutedIP whose address was allocated (answer lost) but not yet associated, and whose UID
    // this issuer's view does not show yet.
    const fresh = await allocate(w, marks('ingress/fresh', 'uid-fresh', CLUSTER));
    const issuerDriver = driver(w);
    w.writes.length = 0;

    await issuerDriver.sync([]);
    t.same(issuerDriver.orphanAddresses, [w.status.address, inUse.ip, fresh.ip].sort(), 'a stale view reports them');
    w.clock.advance(GRACE / 2);
    await issuerDriver.sync([w.parent, routedIP('fresh')]);
    t.same(issuerDriver.orphanAddresses, [inUse.ip], 'seen: their records go');
    w.clock.advance(GRACE);
    await issuerDriver.sync([]);
    t.same(w.writes, [], 'a record dropped restarts the grace: nothing released');
    w.clock.advance(GRACE);
    await issuerDriver.sync([w.parent]);
    t.same(w.writes, ['releaseAddress'], 'only the unassociated one, seen orphaned for a whole grace, goes');
    t.same(await publicIps(w), [w.status.address, inUse.ip].sort() as string[], 'the associated orphan and the RoutedIP\'s own address stay');
  });

  t.test('without CLUSTER_NAME, or under Retain, orphans are reported and never released', async (t) => {
    const unnamed = await new AwsWorld(peer()).start(t, ['n1']);
    await unnamed.sync();
    t.notOk((await unnamed.addresses())[0]?.tags['routedip.io/cluster'], 'no cluster mark without CLUSTER_NAME');
    const old = await allocate(unnamed, marks('ingress/gone', 'uid-gone'));
    const byUnnamed = driver(unnamed);
    unnamed.writes.length = 0;
    await byUnnamed.sync([unnamed.parent]);
    unnamed.clock.advance(GRACE * 2);
    await byUnnamed.sync([unnamed.parent]);
    t.same(byUnnamed.orphanAddresses, [old.ip]);
    t.match(byUnnamed.orphansFound?.message, /reported only: CLUSTER_NAME is not set/);
    t.same(unnamed.writes, []);

    const kept = await new AwsWorld(peer()).start(t, ['n1'], {}, { clusterName: CLUSTER });
    const orphan = await allocate(kept, marks('ingress/gone', 'uid-gone', CLUSTER));
    const retain = driver(kept, { ...kept.issuerSpec, routedIPReclaimPolicy: 'Retain' });
    kept.writes.length = 0;
    await retain.sync([]);
    kept.clock.advance(GRACE * 2);
    await retain.sync([]);
    t.same(retain.orphanAddresses, [orphan.ip]);
    t.match(retain.orphansFound?.message, /reported only: the reclaim policy is Retain/);
    t.same(kept.writes, []);
  });

  t.test('rules: only this cluster\'s marked range of a gone RoutedIP of the namespace is revoked, after the grace; the rest is never touched', async (t) => {
    const w = await new AwsWorld(peer()).start(t, ['n1'], {}, { clusterName: CLUSTER });
    const gone = 'routedip:ingress/gone';
    await authorize(w, 443, `${gone}@${CLUSTER}`); // a gone RoutedIP's range the live one needs too
    await authorize(w, 8080, `${gone}@${CLUSTER}`); // the orphan
    await authorize(w, 8081, `${gone}@staging`); // another cluster's
    await authorize(w, 8082, `routedip:web/gone@${CLUSTER}`); // another namespace's
    await authorize(w, 8083, gone); // made before cluster marks
    await authorize(w, 8084, `routedip:ingress/public@${CLUSTER}`); // a RoutedIP that exists
    await w.sync();
    t.equal(w.status.firewall?.ports.map((p) => p.port).join(), '80,443', 'the live RoutedIP needs 443');
    const before = await w.rules();
    t.ok(before.includes(`tcp/443 0.0.0.0/0 ${gone}@${CLUSTER}`), 'and uses the gone one\'s range for it');
    const issuerDriver = driver(w);
    const live = [w.parent];
    w.writes.length = 0;

    const first = await issuerDriver.sync(live);
    t.equal(first.code, 200);
    t.same(issuerDriver.orphanRules, ['tcp/8080 0.0.0.0/0 ingress/gone', 'tcp/8083 0.0.0.0/0 ingress/gone'], 'this cluster\'s orphan and the one made before cluster marks');
    t.match(first.status.orphans?.find((o) => o.rule === 'tcp/8080 0.0.0.0/0'), { kind: 'rule', id: `${w.groupId} tcp/8080 0.0.0.0/0`, firewall: w.groupId, owner: 'ingress/gone' });
    t.match(issuerDriver.orphansFound?.message, /2 rules carrying our marks/);
    t.equal(await issuerDriver.metric('routedip_orphans', 'aws', 'rule'), 2);
    t.equal(await issuerDriver.metric('routedip_orphans', 'aws', 'address'), 0);
    t.same(w.writes, [], 'a first sighting revokes nothing');

    w.clock.advance(GRACE - 1);
    await issuerDriver.sync(live);
    t.same(w.writes, [], 'within the grace nothing is revoked');
    w.clock.advance(1);
    const due = await issuerDriver.sync(live);
    t.equal(due.code, 200);
    t.same(w.writes, ['revokeSecurityGroupIngress'], 'one revoke');
    t.same(await w.rules(), before.filter((r) => !r.startsWith('tcp/8080 ')), 'only the orphan is gone');
    t.same(issuerDriver.orphanRules, ['tcp/8083 0.0.0.0/0 ingress/gone'], 'the old-form one stays reported');
    t.equal(await issuerDriver.metric('routedip_orphans_released_total', 'aws', 'rule'), 1);

    w.clock.advance(GRACE * 3);
    await quietAndSteady(t, issuerDriver, live, () => w.writes.length, 'a range without our cluster mark is never revoked');
    t.same(await w.rules(), before.filter((r) => !r.startsWith('tcp/8080 ')));
  });

  t.test('two issuers of one account in one namespace: an orphan counts once, its release once; a deleted issuer, or one finding nothing, stops counting', async (t) => {
    const w = await new AwsWorld(peer()).start(t, ['n1'], {}, { clusterName: CLUSTER });
    const orphan = await allocate(w, marks('ingress/gone', 'uid-gone', CLUSTER));
    const legacy = await allocate(w, marks('ingress/old', 'uid-old'));
    await authorize(w, 8080, `routedip:ingress/gone@${CLUSTER}`);
    const secrets = [secret('aws-creds', w.secretData)];
    const a = new IssuerDriver(w.app, issuer('cloud', w.issuerSpec), secrets);
    const b = new IssuerDriver(w.app, issuer('cloud-b', w.issuerSpec), secrets);
    // Both recorded the orphan almost a grace ago: due for both within their listings' life.
    const since = new Date(w.clock.now().getTime() - (GRACE - 10) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const d of [a, b]) d.parent = { ...d.parent, status: { observedGeneration: 1, routedIPs: 0, conditions: [], orphans: [{ kind: 'address', id: orphan.id, address: orphan.ip, owner: 'ingress/gone', since }] } };
    await a.sync([]);
    await b.sync([]);
    t.same([a.orphanAddresses, b.orphanAddresses], [[orphan.ip, legacy.ip].sort(), [orphan.ip, legacy.ip].sort()], 'both issuers find the same two addresses');
    t.equal(await a.metric('routedip_orphans', 'aws', 'address'), 2, 'two addresses, though two issuers found each');
    t.equal(await a.metric('routedip_orphans', 'aws', 'rule'), 1, 'one rule pair, though two issuers found it');

    w.clock.advance(10);
    w.writes.length = 0;
    await a.sync([]);
    await b.sync([]); // its listing, still cached, shows the orphan due: the fresh read finds it gone
    t.same(w.writes, ['releaseAddress'], 'released once');
    t.equal(await a.metric('routedip_orphans_released_total', 'aws', 'address'), 1, 'and counted once');
    t.same(b.orphanAddresses, [legacy.ip], 'the other issuer\'s record of it goes too');
    t.equal(await a.metric('routedip_orphans', 'aws'), 2, 'the address left and the rule pair');

    await b.finalize([]);
    t.equal(await a.metric('routedip_orphans', 'aws'), 2, 'a deleted issuer\'s sighting goes; the other issuer still sees both');
    const known = [routedIP('old'), routedIP('gone')];
    await a.sync(known);
    t.equal(a.orphansFound?.reason, 'NoOrphans');
    t.same([await a.metric('routedip_orphans', 'aws', 'address'), await a.metric('routedip_orphans', 'aws', 'rule')], [0, 0], 'a sweep finding nothing counts nothing');
    await a.finalize([]); // the last RoutedIP using it is gone
    t.equal(await a.metric('routedip_orphans', 'aws'), undefined, 'no issuer of the provider left: no series');
  });

  t.test('rules: a range whose mark changed since the listing is kept (the fresh read before the revoke)', async (t) => {
    const w = await new AwsWorld(peer()).start(t, ['n1'], {}, { clusterName: CLUSTER });
    const mark = `routedip:ingress/gone@${CLUSTER}`;
    await authorize(w, 8080, mark);
    const issuerDriver = driver(w);
    // The previous status recorded it orphaned almost a grace ago: due within this listing's life.
    issuerDriver.parent = { ...issuerDriver.parent, status: { observedGeneration: 1, routedIPs: 0, conditions: [], orphans: [{ kind: 'rule', id: `${w.groupId} tcp/8080 0.0.0.0/0`, firewall: w.groupId, rule: 'tcp/8080 0.0.0.0/0', owner: 'ingress/gone', since: new Date(w.clock.now().getTime() - (GRACE - 10) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') }] } };
    const first = await issuerDriver.sync([]);
    t.equal(first.resyncAfterSeconds, 10);
    // Someone takes the range over before the sweep comes back (the listing is still cached).
    const range = { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080 };
    await w.peer.admin.send(new RevokeSecurityGroupIngressCommand({ GroupId: w.groupId, IpPermissions: [{ ...range, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    await w.peer.admin.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: w.groupId, IpPermissions: [{ ...range, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'web team' }] }] }));
    w.clock.advance(10);
    w.writes.length = 0;
    await issuerDriver.sync([]);
    t.same(w.writes, [], 'nothing revoked: the fresh read shows someone else\'s range');
    t.ok((await w.rules()).includes('tcp/8080 0.0.0.0/0 web team'));
  });
}
