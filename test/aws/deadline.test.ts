/**
 * A slow EC2 (every call takes 2 s, each below the 3 s request timeout) makes a first sync need
 * far longer than Metacontroller's 10 s hook timeout. The call must stop at its deadline (8 s):
 * the request in flight is aborted through the SDK's abortSignal, no later write is sent, and
 * the status so far is answered (200, never 5xx) with a resync. Once EC2 is fast again the
 * RoutedIP converges with one address.
 */
import t from 'tap';
import { fakePeer, type Ec2Peer } from './peers.js';
import { AwsWorld, condition } from './world.js';

t.test('a sync stops at its deadline: in-flight request aborted, no later write, status so far answered', async (t) => {
  const peer: Ec2Peer = await fakePeer(t);
  const fake = peer.fake!;
  const w = await new AwsWorld(peer).start(t);
  fake.latencyMs = 2000;
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  t.match(condition(w.status, 'Ready'), { status: 'False', reason: 'DeadlineExceeded' });
  t.ok((answer.body.resyncAfterSeconds ?? 0) > 0, 'asks to be called again');
  // The call in flight at the deadline was abandoned: it may still take effect (a lost response).
  t.notOk(fake.writes().includes('AllocateAddress'), `no write after the deadline (writes: ${fake.writes().join(', ')})`);
  t.notOk(fake.writes().includes('AssociateAddress'));

  fake.latencyMs = 0;
  for (let i = 0; i < 5 && condition(w.status, 'Ready')?.status !== 'True'; i++) await w.sync();
  t.equal(condition(w.status, 'Ready')?.status, 'True', 'converges once EC2 is fast again');
  t.equal((await w.addresses()).length, 1, 'exactly one Elastic IP');
});
