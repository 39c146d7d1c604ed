/**
 * A slow DigitalOcean API (every request takes 3.5 s, under the 5 s client timeout) makes the sync that would create the address
 * longer than the hook timeout. The call must stop at its deadline (8 s): the axios request in
 * flight is aborted, no later write (the create) is sent, and the status so far is answered (200)
 * with a resync; once the API is fast again the RoutedIP converges with one reserved IP.
 *
 * The first sync only records the create intent (issue 12 item 2: the create is sent by a later
 * sync that sees the intent in status), so the API turns slow for the second one, the one that
 * reads the account again before it creates.
 */
import t from 'tap';
import { checkStoppedAtDeadline } from '../helpers/hook-world.js';
import { DigitalOceanWorld } from './world.js';

t.test('a sync stops at its deadline: in-flight request aborted, no later write, status so far answered', async (t) => {
  const w = await new DigitalOceanWorld().start(t);
  await w.sync();
  t.ok(w.status.createIntent, 'the first sync recorded the create intent');
  t.notOk(w.fake.mutations().some((m) => m === 'POST /v2/reserved_ips'), 'and sent no create');
  w.fake.latencyMs = 3500;
  const answer = await w.sync();
  await checkStoppedAtDeadline(t, answer, w.status, w.fake);
  t.notOk(w.fake.mutations().some((m) => m === 'POST /v2/reserved_ips'), `no create after the deadline (${w.fake.mutations().join(', ')})`);

  w.fake.latencyMs = 0;
  await w.syncUntilReady();
  t.equal(w.fake.model.reservedIPs.size, 1, 'exactly one reserved IP');
  t.same(w.fake.violations, []);
});
