/**
 * The budget of bytes of hook calls in the service (src/uploads.ts), driven directly with the
 * production values (128 MiB, slow after half the 10 s body timeout): claims that do not fit wait
 * unadmitted, bytes count until the call is released (not merely until its body is in), a small
 * call passes a large one waiting, and a body of undeclared length gives back what it did not use.
 */
import t from 'tap';
import { UploadBudget } from '../../src/uploads.js';

const MiB = 1 << 20;
const budget = () => new UploadBudget(128 * MiB, 10_000);

/** A claim that records whether it was admitted or aborted. */
function call(b: UploadBudget, bytes: number) {
  const seen = { admitted: false, aborted: undefined as undefined | { statusCode: number } };
  const claim = b.claim(
    bytes,
    () => (seen.admitted = true),
    (err) => (seen.aborted = err),
  );
  return { claim, seen };
}

t.test('calls past the bound wait unadmitted and are admitted, in order, as answered calls free room', async (t) => {
  const b = budget();
  const calls = Array.from({ length: 6 }, () => call(b, 40 * MiB));
  t.same(calls.map((c) => c.seen.admitted), [true, true, true, false, false, false], 'three 40 MiB calls fit under 128 MiB');
  t.equal(b.bytesInFlight, 120 * MiB);
  t.equal(b.waitingCalls, 3);
  b.received(calls[0]!.claim, 40 * MiB);
  t.equal(calls[3]!.seen.admitted, false, 'a body that is in still counts: it is parsed and served from memory');
  t.equal(b.bytesInFlight, 120 * MiB);
  b.release(calls[0]!.claim);
  t.same(calls.map((c) => c.seen.admitted), [true, true, true, true, false, false], 'an answered call lets the next one in');
  b.release(calls[1]!.claim);
  b.release(calls[2]!.claim);
  t.same(calls.map((c) => c.seen.admitted), [true, true, true, true, true, true]);
  t.ok(calls.every((c) => c.seen.aborted === undefined), 'nobody was refused');
  for (const c of calls) b.release(c.claim);
  t.equal(b.bytesInFlight, 0);
  t.equal(b.waitingCalls, 0);
});

t.test('a small call passes a large one waiting; a call that leaves while waiting frees its place', async (t) => {
  const b = budget();
  const big = [call(b, 60 * MiB), call(b, 60 * MiB)];
  const large = call(b, 40 * MiB);
  const small = call(b, 4096);
  t.equal(large.seen.admitted, false, 'the 40 MiB call waits: 8 MiB are free');
  t.equal(small.seen.admitted, true, 'a 4 KiB call fits in what is free and does not wait behind it');
  b.release(large.claim);
  t.equal(b.waitingCalls, 0, 'a waiting call whose client went away is out of line');
  b.release(large.claim);
  for (const c of [...big, small]) b.release(c.claim);
  t.equal(b.bytesInFlight, 0, 'releases are idempotent');
});

t.test('a body of undeclared length claims the bound at most, and gives back what it did not use once in', async (t) => {
  const b = budget();
  const chunked = call(b, 512 * MiB);
  t.equal(b.bytesInFlight, 128 * MiB, 'a claim is capped at the bound, so it fits once the service is empty');
  const next = call(b, 100 * MiB);
  t.equal(next.seen.admitted, false);
  b.received(chunked.claim, 20 * MiB);
  t.equal(b.bytesInFlight, 120 * MiB, 'the 20 MiB received count, the rest is free again');
  t.equal(next.seen.admitted, true);
  b.release(chunked.claim);
  b.release(next.claim);
  t.equal(b.bytesInFlight, 0);
});
