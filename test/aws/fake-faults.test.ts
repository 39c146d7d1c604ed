/**
 * AWS behaviour only the wire-level fake can provoke (moto has no auth, throttling, quotas,
 * lost responses or eventual consistency): each through POST /sync with the real SDK client.
 */
import { AllocateAddressCommand, AssociateAddressCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import t from 'tap';
import { RETRYING_ATTEMPTS } from '../../src/issuers/aws/client.js';
import { node, withProviderID } from '../fixtures/k8s.js';
import { fakePeer, SECRET_ACCESS_KEY, type Ec2Peer } from './peers.js';
import { AwsWorld, condition } from './world.js';

let peer: Ec2Peer;
t.before(async () => {
  peer = await fakePeer(t);
});
const fake = () => peer.fake as NonNullable<Ec2Peer['fake']>;
const reasons = (w: AwsWorld) => w.status.conditions.filter((c) => c.status !== 'True').map((c) => `${c.type}=${c.reason}`);

t.test('bad credentials: IssuerReady=False InvalidCredentials, nothing allocated, the secret never shown', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  w.secretData = { accessKeyId: 'AKIDWRONG', secretAccessKey: SECRET_ACCESS_KEY };
  const answer = await w.sync();
  t.equal(answer.statusCode, 200, 'a cloud failure is not an HTTP error');
  t.match(condition(w.status, 'IssuerReady'), { status: 'False', reason: 'InvalidCredentials', message: /AuthFailure/ });
  t.ok(answer.body.resyncAfterSeconds, 'resync with backoff');
  t.same(fake().writes(), [], 'no mutating call reached EC2');
  t.notOk(answer.raw.includes(SECRET_ACCESS_KEY), 'secret not in status');
  t.notOk(w.logs.join('').includes(SECRET_ACCESS_KEY), 'secret not in logs');
});

t.test('a Secret without the delivery label is reported as such', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  const answer = await import('../helpers/app.js').then(({ sync }) => sync(w.app, w.request({ secrets: [] })));
  t.equal(answer.statusCode, 200);
  t.match(answer.body.status.conditions.find((c) => c.type === 'IssuerReady'), { status: 'False', reason: 'SecretNotFound', message: /routedip\.io\/issuer/ });
});

t.test('a lost AllocateAddress response, then a retry with stale status: exactly one address', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  fake().fail('AllocateAddress', { lostResponse: true });
  const lost = await w.sync();
  t.equal(lost.statusCode, 200);
  t.equal((await w.addresses()).length, 1, 'EC2 allocated it although the client never heard, and the SDK did not re-send');
  t.equal(condition(w.status, 'Ready')?.status, 'True', `the address was found again by its tag in the same sync: ${JSON.stringify(reasons(w))}`);
  w.parent = { ...w.parent, status: undefined };
  const retried = await w.sync();
  t.equal(retried.statusCode, 200);
  t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(reasons(w)));
  t.equal((await w.addresses()).length, 1, 'found by tag, not allocated again');
  t.equal(fake().calls.filter((c) => c.action === 'AllocateAddress').length, 1);
});

t.test('a slow AllocateAddress answer (past the request timeout) allocates once: the tag is looked up, never re-sent', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  // EC2 allocates at once but answers after the production request timeout (3 s) has fired.
  fake().fail('AllocateAddress', { delayMs: 3_500 });
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  t.equal(fake().calls.filter((c) => c.action === 'AllocateAddress').length, 1, 'AllocateAddress sent exactly once');
  t.equal((await w.addresses()).length, 1, 'one address');
  t.equal(condition(w.status, 'Ready')?.status, 'True', `found by tag in the same sync: ${JSON.stringify(reasons(w))}`);
  await w.sync();
  t.equal((await w.addresses()).length, 1, 'still one address after another sync');
});

t.test('AllocateAddress refused by a 5xx twice in a row is not retried by the SDK: one call per sync', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  fake().fail('AllocateAddress', { code: 'InternalError', status: 500 });
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  t.same(fake().calls.filter((c) => c.action === 'AllocateAddress').map((c) => c.outcome), ['InternalError'], 'not re-sent by the SDK');
  t.ok(reasons(w).some((r) => r.endsWith('=CloudUnavailable')), JSON.stringify(reasons(w)));
  t.same(await w.addresses(), []);
  await w.sync();
  t.equal((await w.addresses()).length, 1, 'the next sync allocates');
});

t.test('RequestLimitExceeded answers 429 with Retry-After, and the budget holds calls back until it passes', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  // Every attempt the production client makes is throttled (the SDK retries one throttle itself).
  fake().fail('DescribeAddresses', { code: 'RequestLimitExceeded', status: 503, times: RETRYING_ATTEMPTS });
  const throttled = await w.sync();
  t.equal(throttled.statusCode, 429);
  t.equal(throttled.headers['retry-after'], '5');
  const before = fake().calls.length;
  const again = await w.sync();
  t.equal(again.statusCode, 429, 'still throttled locally');
  t.equal(fake().calls.length, before, 'no call reached EC2 while throttled');
  w.clock.advance(6);
  const after = await w.sync();
  t.equal(after.statusCode, 200);
  t.equal(condition(w.status, 'Ready')?.status, 'True');
});

t.test('AddressLimitExceeded is a quota condition, not a crash', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  fake().fail('AllocateAddress', { code: 'AddressLimitExceeded' });
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  t.ok(reasons(w).some((r) => r.endsWith('=QuotaExceeded')), JSON.stringify(reasons(w)));
  t.same(await w.addresses(), []);
});

t.test('eventual consistency: a NotFound right after AllocateAddress is retried in the same sync', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  fake().fail('AssociateAddress', { code: 'InvalidAllocationID.NotFound' });
  await w.sync();
  t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(reasons(w)));
  t.same(fake().calls.filter((c) => c.action === 'AssociateAddress').map((c) => c.outcome), ['InvalidAllocationID.NotFound', 'ok']);
});

t.test('eventual consistency that outlasts the retries is a retryable busy condition; the next sync converges', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  fake().fail('AssociateAddress', { code: 'InvalidAllocationID.NotFound', times: 3 });
  const busy = await w.sync();
  t.equal(busy.statusCode, 200);
  t.ok(reasons(w).some((r) => r.endsWith('=NotYetVisible')), JSON.stringify(reasons(w)));
  t.ok(busy.body.resyncAfterSeconds);
  await w.sync();
  t.equal(condition(w.status, 'Ready')?.status, 'True');
  t.equal((await w.addresses()).length, 1);
});

t.test('wire: association by interface with explicit reassociation; groups as SecurityGroupId.N; lookups by tag key', async (t) => {
  const w = await new AwsWorld(peer).start(t);
  await w.sync();
  const holder = w.instance(w.status.node as string);
  const associate = fake().calls.find((c) => c.action === 'AssociateAddress');
  t.match(associate?.params, { AllowReassociation: 'true', NetworkInterfaceId: /^eni-/, PrivateIpAddress: /^10\./ });
  t.notOk(associate && 'InstanceId' in associate.params, 'never by InstanceId');
  const modify = fake().calls.find((c) => c.action === 'ModifyNetworkInterfaceAttribute');
  t.same(modify?.params['SecurityGroupId.2'], w.groupId);
  t.same(modify?.params['SecurityGroupId.1'], w.baseGroupId);
  // One DescribeAddresses for all of our addresses (the account's read cache filters by uid).
  t.ok(fake().calls.some((c) => c.action === 'DescribeAddresses' && c.params['Filter.1.Name'] === 'tag-key' && c.params['Filter.1.Value.1'] === 'routedip.io/uid'));
  const allocate = fake().calls.find((c) => c.action === 'AllocateAddress');
  t.match(allocate?.params, { Domain: 'vpc', 'TagSpecification.1.ResourceType': 'elastic-ip' });
  t.ok(holder.startsWith('i-'));
});

t.test('the fake refuses AssociateAddress by InstanceId on a multi-ENI instance, as EC2 does', async (t) => {
  const w = await new AwsWorld(peer).start(t, ['n1']);
  await w.addSecondInterface('n1');
  const alloc = await peer.admin.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  await t.rejects(peer.admin.send(new AssociateAddressCommand({ AllocationId: alloc.AllocationId, InstanceId: w.instance('n1') })), { name: 'InvalidInstanceID' });
  const d = await peer.admin.send(new DescribeInstancesCommand({ InstanceIds: [w.instance('n1')] }));
  t.equal(d.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces?.length, 2);
});

t.test('a node whose zone is in another region is not eligible; the address goes to one that is', async (t) => {
  const w = await new AwsWorld(peer).start(t, ['n1']);
  w.nodes = [node('n0', withProviderID('aws:///eu-west-1a/i-0aaaaaaaaaaaaaaaa')), ...w.nodes];
  w.endpointsOn = ['n0', 'n1'];
  await w.sync();
  t.equal(w.status.node, 'n1');
  t.match(await w.addresses(), [{ node: 'n1' }]);
});

t.test('another address on the only node\'s primary private IP is not displaced: the node is occupied, nothing is allocated', async (t) => {
  const w = await new AwsWorld(peer).start(t, ['n1']);
  const other = await peer.admin.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  const d = await peer.admin.send(new DescribeInstancesCommand({ InstanceIds: [w.instance('n1')] }));
  const eni = d.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces?.[0];
  await peer.admin.send(new AssociateAddressCommand({ AllocationId: other.AllocationId, NetworkInterfaceId: eni?.NetworkInterfaceId }));
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  t.match(w.status.steps.find((s) => s.name === 'ElectRoutedIPNode'), { outcome: 'failed', detail: /EveryNodeHoldsAnAddress/ }, JSON.stringify(reasons(w)));
  t.same(await w.addresses(), [{ publicIp: other.PublicIp, node: 'n1', tags: {} }], 'the other address stays where it was; none allocated (issue 8 item 4)');
});

t.test('an EC2 that never answers hits the request timeout: CloudUnavailable, carried status, resync', async (t) => {
  const w = await new AwsWorld(peer).start(t, ['n1', 'n2'], { requestTimeoutMs: 300 });
  await w.sync();
  const before = w.status;
  fake().fail('DescribeAddresses', { hang: true, times: RETRYING_ATTEMPTS });
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  t.ok(reasons(w).some((r) => r.endsWith('=CloudUnavailable')), JSON.stringify(reasons(w)));
  t.equal(w.status.address, before.address, 'previous status carried forward');
  t.ok(answer.body.resyncAfterSeconds);
});
