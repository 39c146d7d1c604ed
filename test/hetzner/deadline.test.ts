/**
 * A slow Hetzner Cloud API (requests take 3.5 s, at most 4 s, under the 5 s client timeout) makes
 * a first sync longer than the hook deadline (8 s). The call must stop at its deadline: the undici
 * request in flight is aborted through the session's signal, no later write (the create) is sent,
 * and the status so far is answered (200) with a resync; once the API is fast again the RoutedIP
 * converges with one Floating IP. The latency is shaped around the deadline
 * (`slowAcrossDeadline`) so a request spans it with 1.5 s on either side however loaded the
 * machine is: with a flat 3.5 s, the cold start and the gaps between requests moved the reads
 * until the deadline fell on a boundary and no request was in flight to abort.
 */
import t from 'tap';
import { DEFAULT_HOOK_TIMEOUT_SECONDS, hookDeadlineMs } from '../../src/app.js';
import { HETZNER_REQUEST_TIMEOUT_MS } from '../../src/issuers/hetzner/index.js';
import { checkStoppedAtDeadline, slowAcrossDeadline } from '../helpers/hook-world.js';
import { HetznerWorld } from './world.js';

t.test('a sync stops at its deadline: in-flight request aborted, no later write, status so far answered', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  // The call's deadline counts from its arrival, a moment after now: at least this.
  const deadline = Date.now() + hookDeadlineMs(DEFAULT_HOOK_TIMEOUT_SECONDS);
  w.fake.latencyMs = slowAcrossDeadline(deadline, { typicalMs: 3500, longestMs: HETZNER_REQUEST_TIMEOUT_MS - 1000, marginMs: 1500 });
  const answer = await w.sync();
  await checkStoppedAtDeadline(t, answer, w.status, w.fake);
  t.notOk(w.fake.calls.some((c) => c.operation === 'create_floating_ip'), `no create after the deadline (${w.fake.mutations().join(', ')})`);

  w.fake.latencyMs = 0;
  await w.syncUntilReady(10);
  t.equal(w.fake.model.floatingIPs.size, 1, 'exactly one Floating IP');
});
