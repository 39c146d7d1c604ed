/** The create intent's life and the order between sibling intents (src/plan/intent.ts). */
import t from 'tap';
import { blockedBySiblings, CREATE_SETTLE_SECONDS, CREATE_WINDOW_SECONDS, intentExpiry, intentState, recordedBefore } from '../../src/plan/intent.js';
import type { CreateIntent } from '../../src/schemas/routed-ip.js';

const SINCE = '2026-11-23T12:00:00Z';
const at = (seconds: number) => Date.parse(SINCE) + seconds * 1000;
const intent = (parts: Partial<CreateIntent> = {}): CreateIntent => ({ node: 'n1', target: '101', since: SINCE, knownAddresses: [], ...parts });

t.test('intentState: absent, open, settling, expired by age; occupied target or bad time is absent', async (t) => {
  const cases: Array<[string, Parameters<typeof intentState>[0], ReadonlySet<string> | undefined, string]> = [
    ['nothing recorded', { now: at(0) }, undefined, 'absent'],
    ['just recorded', { recorded: intent(), now: at(0) }, undefined, 'open'],
    ['last second of the window', { recorded: intent(), now: at(CREATE_WINDOW_SECONDS - 1) }, undefined, 'open'],
    ['window over: a late create may still land', { recorded: intent(), now: at(CREATE_WINDOW_SECONDS) }, undefined, 'settling'],
    ['settle time over', { recorded: intent(), now: at(CREATE_WINDOW_SECONDS + CREATE_SETTLE_SECONDS) }, undefined, 'expired'],
    ['unparsable since', { recorded: intent({ since: 'yesterday' }), now: at(0) }, undefined, 'absent'],
    ['its node now holds someone else\'s address', { recorded: intent(), now: at(1) }, new Set(['n1']), 'absent'],
    ['another node occupied does not matter', { recorded: intent(), now: at(1) }, new Set(['n2']), 'open'],
  ];
  for (const [name, obs, occupied, want] of cases) t.equal(intentState(obs, occupied), want, name);
  t.equal(intentExpiry(intent()), '2026-11-23T12:01:30Z');
});

t.test('recordedBefore is a total order: earlier since first, the smaller uid on a tie', async (t) => {
  const a = { uid: 'a', since: SINCE };
  const b = { uid: 'b', since: SINCE };
  const later = { uid: 'a', since: '2026-11-23T12:00:01Z' };
  t.ok(recordedBefore(a, b));
  t.notOk(recordedBefore(b, a));
  t.notOk(recordedBefore(a, a), 'irreflexive');
  t.ok(recordedBefore(b, later));
  t.notOk(recordedBefore(later, b));
});

t.test('blockedBySiblings: only older sibling intents block; all of them when ours is still to be recorded', async (t) => {
  const older = { uid: 'z', node: 'n1', since: '2026-11-23T11:59:59Z' };
  const tie = { uid: 'a', node: 'n2', since: SINCE };
  const younger = { uid: 'a', node: 'n3', since: '2026-11-23T12:00:05Z' };
  t.same([...blockedBySiblings(intent(), 'm', [older, tie, younger])].sort(), ['n1', 'n2'], 'older and same-second smaller uid block; a younger one yields to us');
  t.same([...blockedBySiblings(intent(), 'a', [tie])], [], 'same second, same rank order: the larger uid blocks nobody');
  t.same([...blockedBySiblings(undefined, 'm', [older, tie, younger])].sort(), ['n1', 'n2', 'n3'], 'a new intent is the youngest');
  // Both sides of a pair agree: exactly one of them yields.
  const mine = { uid: 'm', node: 'n1', since: SINCE };
  const theirs = { uid: 'z', node: 'n1', since: SINCE };
  const iYield = blockedBySiblings(intent(), mine.uid, [theirs]).has('n1');
  const theyYield = blockedBySiblings(intent({ since: theirs.since }), theirs.uid, [mine]).has('n1');
  t.not(iYield, theyYield, 'exactly one yields');
});
