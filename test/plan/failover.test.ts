/** `decideGrace`: the failover grace clock kept in status, and what stale status can and cannot do to it. */
import t from 'tap';
import { decideGrace, type GraceInput } from '../../src/plan/failover.js';
import { bad, ok } from './fixtures/plan.js';

const T0 = Date.parse('2026-11-28T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const down = (failingSince?: string) => ({ ...bad('n1'), transient: true, ...(failingSince !== undefined ? { failingSince } : {}) });
const input = (parts: Partial<GraceInput>): GraceInput => ({ holder: down(), graceSeconds: 30, now: T0, ...parts });
const rec = (since: number | string, node = 'n1') => ({ node, since: typeof since === 'number' ? iso(since) : since, reason: 'not Ready' });

t.test('nothing to wait for', async (t) => {
  t.same(decideGrace(input({ graceSeconds: 0 })), { keep: false }, 'grace 0: today\'s behaviour, no record');
  t.same(decideGrace(input({ holder: ok('n1') })), { keep: false }, 'holder eligible: the record is dropped');
  t.same(decideGrace(input({ holder: ok('n1'), recorded: rec(T0 - 5000) })), { keep: false }, 'holder recovered: the record is dropped');
  const { holder: _h, ...noHolder } = input({});
  t.same(decideGrace(noHolder), { keep: false }, 'no holder');
  t.same(decideGrace(input({ holder: { ...bad('n1', 'unschedulable'), transient: false } })), { keep: false }, 'cordoned: moves at once');
  t.same(decideGrace(input({ holder: bad('n1') })), { keep: false }, 'a judged node without the flag is not waited for');
});

t.test('first sight: recorded now (rounded up to a whole second), the whole grace left', async (t) => {
  t.same(decideGrace(input({})), { keep: true, record: rec(T0), remainingSeconds: 30 });
  t.same(decideGrace(input({ now: T0 + 200 })), { keep: true, record: rec(T0 + 1000), remainingSeconds: 31 }, 'never rounded down: the grace is never cut short');
});

t.test('the clock runs from the record; the move comes when the grace has passed', async (t) => {
  const r = rec(T0);
  t.same(decideGrace(input({ recorded: r, now: T0 + 10_000 })), { keep: true, record: r, remainingSeconds: 20 });
  t.same(decideGrace(input({ recorded: r, now: T0 + 29_001 })), { keep: true, record: r, remainingSeconds: 1 });
  t.same(decideGrace(input({ recorded: r, now: T0 + 30_000 })), { keep: false, record: r }, 'grace passed: moves, and the record stays while the holder is ineligible');
  t.same(decideGrace(input({ recorded: r, now: T0 + 3_600_000 })), { keep: false, record: r });
  t.same(decideGrace(input({ recorded: r, now: T0 + 10_000, holder: { ...down(), reason: 'hosts no ready endpoint of the Service' } })).record, { ...r, reason: 'hosts no ready endpoint of the Service' }, 'the reason follows, the clock does not restart');
});

t.test('where the API timestamps the failure, the clock starts there', async (t) => {
  t.same(decideGrace(input({ holder: down(iso(T0 - 25_000)) })), { keep: true, record: rec(T0 - 25_000), remainingSeconds: 5 }, 'no record (first sight, or a stale status): the API time');
  t.same(decideGrace(input({ holder: down(iso(T0 - 60_000)) })), { keep: false, record: rec(T0 - 60_000) }, 'failing for longer than the grace already (operator was down): moves at once');
  // A stale parent may carry the record of an earlier episode: it must not shorten this one.
  t.same(decideGrace(input({ holder: down(iso(T0 - 5000)), recorded: rec(T0 - 600_000) })), { keep: true, record: rec(T0 - 5000), remainingSeconds: 25 }, 'an older record than the failure: the failure time');
  t.same(decideGrace(input({ holder: down(iso(T0 - 20_000)), recorded: rec(T0 - 10_000) })), { keep: true, record: rec(T0 - 10_000), remainingSeconds: 20 }, 'a record later than the API time is kept (never earlier than first seen)');
});

t.test('stale or foreign records never make it move early, nor keep it forever', async (t) => {
  t.same(decideGrace(input({ recorded: rec(T0 - 600_000, 'n2') })), { keep: true, record: rec(T0), remainingSeconds: 30 }, 'a record of another node is ignored');
  t.same(decideGrace(input({ recorded: rec('not a time') })), { keep: true, record: rec(T0), remainingSeconds: 30 }, 'a time that does not parse is ignored');
  t.same(decideGrace(input({ recorded: rec(T0 + 3_600_000) })), { keep: true, record: rec(T0 + 3_600_000), remainingSeconds: 31 }, 'a record in the future: at most the grace (and its rounding) from now');
  // Replaying the answers: a status that lost the record (stale parent) restarts the clock at
  // most once per loss, and the move still comes.
  let recorded: ReturnType<typeof rec> | undefined;
  let now = T0;
  let moved: number | undefined;
  for (let i = 0; i < 10 && moved === undefined; i++) {
    const d = decideGrace(input({ now, ...(recorded && i !== 1 ? { recorded } : {}) }));
    if (!d.keep) moved = now;
    else {
      recorded = d.record;
      now += d.remainingSeconds! * 1000;
    }
  }
  t.ok(moved !== undefined && moved >= T0 + 30_000, `moved at +${((moved ?? 0) - T0) / 1000}s, not before the grace`);
  t.ok(moved !== undefined && moved <= T0 + 61_000, 'one lost record costs at most one more grace');
});

t.test('the same inputs give the same record text (status bytes stay the same while waiting)', async (t) => {
  const first = decideGrace(input({ now: T0 + 123 }));
  const again = decideGrace(input({ now: T0 + 7000, recorded: first.record! }));
  t.equal(again.record?.since, first.record?.since);
  t.same(decideGrace(input({ holder: down('2026-11-28T09:59:50.5Z') })).record?.since, '2026-11-28T09:59:50.5Z', 'the API time is kept as written');
});
