/**
 * A slow Hetzner Cloud API (every request takes 3.5 s, under the 5 s client timeout) makes a first sync longer than the hook
 * timeout. The call must stop at its deadline: the undici request in flight is aborted through
 * the session's signal, no later write (the create) is sent, and the status so far is answered
 * (200) with a resync; once the API is fast again the RoutedIP converges with one Floating IP.
 */
import t from 'tap';
import { checkStoppedAtDeadline } from '../helpers/hook-world.js';
import { HetznerWorld } from './world.js';

t.test('a sync stops at its deadline: in-flight request aborted, no later write, status so far answered', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  w.fake.latencyMs = 3500; // the third read runs from 7 to 10.5 s, across the 8 s deadline
  const answer = await w.sync();
  await checkStoppedAtDeadline(t, answer, w.status, w.fake);
  t.notOk(w.fake.calls.some((c) => c.operation === 'create_floating_ip'), `no create after the deadline (${w.fake.mutations().join(', ')})`);

  w.fake.latencyMs = 0;
  await w.syncUntilReady(10);
  t.equal(w.fake.model.floatingIPs.size, 1, 'exactly one Floating IP');
});
