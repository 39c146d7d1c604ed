/**
 * The per-account read cache on AWS, through the app and the real SDK client against both EC2
 * peers (the fake; moto when installed, always in CI): converged syncs of every RoutedIP of an
 * account share one DescribeAddresses for all of our addresses (by tag key), one
 * DescribeSecurityGroups and one DescribeNetworkInterfaces per TTL, and write nothing; a
 * failover still associates in the sync that sees the holder go, after fresh reads.
 */
import t, { type Test } from 'tap';
import type { Ec2Api } from '../../src/issuers/aws/client.js';
import { DEFAULT_READ_CACHE_SECONDS } from '../../src/issuers/session.js';
import { notReady } from '../fixtures/k8s.js';
import { motoAvailable, motoRequired } from './moto.js';
import { fakePeer, motoPeer, type Ec2Peer } from './peers.js';
import { AwsWorld, condition } from './world.js';

/** Every EC2 call the issuer sends (after the cache), by method name. */
function counting(sent: string[]) {
  return (api: Ec2Api): Ec2Api =>
    Object.fromEntries(Object.entries(api).map(([method, fn]) => [method, (input: unknown) => (sent.push(method), (fn as (i: unknown) => Promise<unknown>)(input))])) as unknown as Ec2Api;
}

function scenarios(t: Test, peer: () => Ec2Peer) {
  t.test('converged syncs of every RoutedIP of an account share the Describe calls per TTL and write nothing', async (t) => {
    const sent: string[] = [];
    const a = await new AwsWorld(peer()).start(t, ['n1', 'n2', 'n3'], { wrapApi: counting(sent) });
    const b = a.sibling('second');
    const see = () => {
      a.related = [b.parent];
      b.related = [a.parent];
    };
    for (let i = 0; i < 4; i++) {
      see();
      await a.sync();
      see();
      await b.sync();
    }
    t.equal(condition(a.status, 'Ready')?.status, 'True');
    t.equal(condition(b.status, 'Ready')?.status, 'True');
    t.not(a.status.address, b.status.address);
    const [statusA, statusB] = [a.status, b.status];
    a.clock.advance(DEFAULT_READ_CACHE_SECONDS);
    sent.length = 0;
    for (let i = 0; i < 10; i++) {
      see();
      await a.sync();
      see();
      await b.sync();
    }
    // moto reports an association by interface only, so each holder's interface is described
    // too (once per TTL per address); EC2 names the instance in DescribeAddresses.
    const holders = peer().name === 'moto' ? ['describeNetworkInterfaces', 'describeNetworkInterfaces'] : [];
    t.same(sent.sort(), ['describeAddresses', 'describeNetworkInterfaces', ...holders, 'describeSecurityGroups'], '20 converged syncs: one call of each');
    t.same([a.status, b.status], [statusA, statusB], 'status unchanged');
  });

  t.test('failover with the cache warm: fresh reads, then the associate in the same sync', async (t) => {
    const sent: string[] = [];
    const w = await new AwsWorld(peer()).start(t, ['n1', 'n2'], { wrapApi: counting(sent) });
    for (let i = 0; i < 3; i++) await w.sync();
    const old = w.status.node!;
    sent.length = 0;
    w.nodes = w.nodes.map((n) => {
      if (n.metadata.name !== old) return n;
      const copy = structuredClone(n);
      notReady()(copy);
      return copy;
    });
    await w.sync();
    const associate = sent.indexOf('associateAddress');
    t.ok(associate > 0, `associated in this sync: ${sent.join(',')}`);
    t.ok(sent.slice(0, associate).includes('describeAddresses'), 'after a fresh read of the addresses');
    t.not(w.status.node, old);
  });
}

t.test('fake EC2', async (t) => {
  const peer = await fakePeer(t);
  scenarios(t, () => peer);
});

const available = motoAvailable();
if (!available.ok && !motoRequired()) {
  t.test('moto', { skip: available.reason }, async () => {});
} else {
  t.test('moto', async (t) => {
    const started = await motoPeer(t);
    if ('skip' in started) throw new Error(started.skip);
    scenarios(t, () => started);
  });
}
