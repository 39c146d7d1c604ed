/**
 * A slow DigitalOcean API (requests take 3.5 s, at most 4 s, under the 5 s client timeout) makes
 * the sync that would create the address longer than the hook timeout. The call must stop at its deadline (8 s): the axios request in
 * flight is aborted, no later write (the create) is sent, and the status so far is answered (200)
 * with a resync; once the API is fast again the RoutedIP converges with one reserved IP.
 *
 * The first sync only records the create intent (issue 12 item 2: the create is sent by a later
 * sync that sees the intent in status), so the API turns slow for the second one, the one that
 * reads the account again before it creates. The latency is shaped around that sync's deadline
 * (`slowAcrossDeadline`) so a request spans it with 1.5 s on either side however loaded the
 * machine is; a flat 3.5 s let the gaps between requests move the reads until the deadline fell
 * on a boundary and no request was in flight to abort (as in test/hetzner/deadline.test.ts).
 */
import t from 'tap';
import { DEFAULT_HOOK_TIMEOUT_SECONDS, hookDeadlineMs } from '../../src/app.js';
import { DEFAULT_TIMEOUT_MS } from '../../src/issuers/digitalocean/index.js';
import { checkStoppedAtDeadline, slowAcrossDeadline } from '../helpers/hook-world.js';
import { DigitalOceanWorld } from './world.js';

t.test('a sync stops at its deadline: in-flight request aborted, no later write, status so far answered', async (t) => {
  const w = await new DigitalOceanWorld().start(t);
  await w.sync();
  t.ok(w.status.createIntent, 'the first sync recorded the create intent');
  t.notOk(w.fake.mutations().some((m) => m === 'POST /v2/reserved_ips'), 'and sent no create');
  // The call's deadline counts from its arrival, a moment after now: at least this.
  const deadline = Date.now() + hookDeadlineMs(DEFAULT_HOOK_TIMEOUT_SECONDS);
  w.fake.latencyMs = slowAcrossDeadline(deadline, { typicalMs: 3500, longestMs: DEFAULT_TIMEOUT_MS - 1000, marginMs: 1500 });
  const answer = await w.sync();
  await checkStoppedAtDeadline(t, answer, w.status, w.fake);
  t.notOk(w.fake.mutations().some((m) => m === 'POST /v2/reserved_ips'), `no create after the deadline (${w.fake.mutations().join(', ')})`);

  w.fake.latencyMs = 0;
  await w.syncUntilReady();
  t.equal(w.fake.model.reservedIPs.size, 1, 'exactly one reserved IP');
  t.same(w.fake.violations, []);
});
