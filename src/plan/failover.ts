/**
 * Failover grace (`spec.failover.graceSeconds`), stateless: a holder that turns ineligible for a
 * reason that flaps (not Ready, a NoExecute taint, no ready endpoint) keeps the IP for the grace
 * before it moves. The clock lives in `status.holderIneligible`, written by the sync that first
 * sees the holder ineligible and read back from `parent.status` by the next ones. Pure.
 *
 * `parent.status` may be stale (Metacontroller's cache lags behind its own writes), so:
 * - a record of another node, or a time that does not parse, is ignored;
 * - a time in the future counts as now (never a longer grace than asked);
 * - where the API timestamps the failure (`JudgedNode.failingSince`), the clock starts no earlier
 *   than that: a record left over from an earlier episode cannot shorten this one;
 * - without a record, the clock starts at that timestamp, else now: a lost record costs at most
 *   the staleness, never an IP that stays forever (the record is written again by this very sync).
 */
import type { JudgedNode } from './eligibility.js';

/** `status.holderIneligible` as recorded: the holder, since when, why. */
export interface IneligibleRecord {
  readonly node: string;
  readonly since: string;
  readonly reason: string;
}

/** What the grace decision is made from. */
export interface GraceInput {
  /** The holder judged (undefined: no holder, or not a known node — it cannot be waited for). */
  readonly holder?: JudgedNode;
  readonly graceSeconds: number;
  /** `status.holderIneligible` of the last sync, if any. */
  readonly recorded?: IneligibleRecord;
  /** The call's clock, ms since the epoch. */
  readonly now: number;
}

/** The grace decision. */
export interface GraceDecision {
  /** The holder keeps the IP although it is ineligible: the grace has not passed. */
  readonly keep: boolean;
  /** What `status.holderIneligible` says after this sync (absent: nothing to wait for). */
  readonly record?: IneligibleRecord;
  /** Whole seconds of grace left (at least 1), when `keep`: the sync to answer `resyncAfterSeconds`. */
  readonly remainingSeconds?: number;
}

/** `ms` rounded up to whole seconds, as Kubernetes writes times: a grace is never cut short. */
const wholeSecond = (ms: number) => {
  const at = Math.ceil(ms / 1000) * 1000;
  return { at, text: new Date(at).toISOString().replace('.000Z', 'Z') };
};

/** Decides whether an ineligible holder keeps the IP. */
export function decideGrace(input: GraceInput): GraceDecision {
  const h = input.holder;
  if (!h || h.eligible || !h.transient || input.graceSeconds <= 0) return { keep: false };
  const recordedAt = input.recorded?.node === h.name ? Date.parse(input.recorded.since) : NaN;
  const apiAt = h.failingSince !== undefined ? Date.parse(h.failingSince) : NaN;
  // The text written is the one read back unchanged while nothing changes: same status bytes.
  let since = wholeSecond(input.now);
  if (Number.isFinite(recordedAt) && input.recorded) since = { at: recordedAt, text: input.recorded.since };
  else if (Number.isFinite(apiAt) && h.failingSince !== undefined) since = { at: apiAt, text: h.failingSince };
  if (Number.isFinite(apiAt) && h.failingSince !== undefined && apiAt > since.at) since = { at: apiAt, text: h.failingSince };
  const record = { node: h.name, since: since.text, reason: h.reason };
  const graceMs = input.graceSeconds * 1000;
  // A time in the future (a clock ahead) never makes the grace longer than asked (and the second it was rounded up by).
  const remainingMs = Math.min(graceMs + 1000, since.at + graceMs - input.now);
  if (remainingMs <= 0) return { keep: false, record };
  return { keep: true, record, remainingSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) };
}
