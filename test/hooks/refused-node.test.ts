/**
 * Issue 12 item 6a: a failure whose cause is one node's machine (`IssuerError.node`: no free
 * private IP on the instance, a droplet in another region…) is not the user's to fix and not
 * permanent: another node would do. The sync re-elects without that node at once, and when no
 * other node is left it backs off like a retryable failure instead of a flat 300 s.
 */
import t from 'tap';
import { IssuerInvalidError } from '../../src/issuers/errors.js';
import { node } from '../fixtures/k8s.js';
import type { Teardown } from '../helpers/app.js';
import { ACCOUNT, condition, ScriptedWorld } from './world.js';

/** The node a fresh world elects for its RoutedIP (the election is deterministic). */
async function electedIn(t: Teardown, setup: (w: ScriptedWorld) => void = () => undefined): Promise<string> {
  const probe = new ScriptedWorld();
  setup(probe);
  await probe.start(t);
  await probe.sync();
  return probe.status.electedNode as string;
}

const refusal = (nodeName: string) =>
  new IssuerInvalidError(`every private IP of the interface of ${nodeName} already holds an address`, 'NoFreePrivateAddress', { node: nodeName });

t.test('the cloud refuses the elected node: the same sync re-elects another one and converges', async (t) => {
  const first = await electedIn(t);
  const w = await new ScriptedWorld().start(t);
  w.cloud.failNext('assignRoutedIP', refusal(first));
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  t.equal(condition(w.status, 'Ready')?.status, 'True', `Ready in the same sync: ${JSON.stringify(condition(w.status, 'Ready'))}`);
  t.not(w.status.node, first, 'the refused node does not hold the IP');
  t.equal(w.status.electedNode, w.status.node);
  const ips = w.cloud.snapshot(ACCOUNT).ips;
  t.equal(ips.length, 1, 'one address, created once');
  t.equal(ips[0]?.holder, w.status.node);
  // Everything the first pass opened is recorded as ours (it is closed when we go).
  t.ok(w.status.firewall?.addedNodes.includes(w.status.node as string), 'the firewall record names the node that holds the IP (and claims the standby)');
  t.same(w.status.firewall?.addedPorts.map((p) => p.port), [80, 443], 'the ports the first pass opened stay recorded as ours');

  // The next sync keeps the node that took the IP: no flapping back to the refused one.
  w.cloud.clearCalls();
  await w.sync();
  t.same(w.writes(), [], 'converged: no write');
  t.equal(condition(w.status, 'Ready')?.status, 'True');
});

t.test('the only eligible node is refused: a short backoff, not a flat 300 s; converges once another node joins', async (t) => {
  const w = new ScriptedWorld();
  w.nodes = [node('n1')];
  w.endpointsOn = ['n1'];
  await w.start(t);
  w.cloud.failNext('assignRoutedIP', refusal('n1'));
  const answer = await w.sync();
  t.match(condition(w.status, 'Ready'), { status: 'False', reason: 'NoFreePrivateAddress' });
  t.ok((answer.body.resyncAfterSeconds ?? 0) < 300, `retried soon (${answer.body.resyncAfterSeconds} s)`);
  t.equal(answer.body.resyncAfterSeconds, 5, 'the retryable backoff starts at 5 s');

  w.nodes = [node('n1'), node('n2')];
  w.endpointsOn = ['n1', 'n2'];
  w.cloud.failNext('assignRoutedIP', refusal('n1'));
  await w.sync();
  t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(condition(w.status, 'Ready')));
  t.equal(w.status.node, 'n2');
  t.equal(w.cloud.snapshot(ACCOUNT).ips.length, 1);
});

t.test('a refusal naming a node that was not elected is an ordinary failure (no re-election)', async (t) => {
  const first = await electedIn(t);
  const other = ['n1', 'n2', 'n3'].find((n) => n !== first)!;
  const w = await new ScriptedWorld().start(t);
  w.cloud.failNext('assignRoutedIP', refusal(other));
  await w.sync();
  t.match(condition(w.status, 'Ready'), { status: 'False', reason: 'NoFreePrivateAddress' });
  t.equal(w.status.electedNode, first, 'the election stands');
});
