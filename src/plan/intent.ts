/**
 * The create intent's life, for clouds whose addresses carry no mark (DigitalOcean). Pure: the
 * time of the call comes in as data.
 *
 *   recorded intent                              →  state     what the sync plan does
 *   none, unreadable, or its node is occupied    →  absent    record one (no create in this sync)
 *   younger than CREATE_WINDOW                   →  open      create on its target (if still elected)
 *   older, younger than the window + settle time →  settling  wait: a create sent late may still land
 *   older than that                              →  expired   record a new one
 *
 * Every create is sent by a sync that saw the intent in `parent.status`, i.e. after Metacontroller
 * wrote it, and only while the intent is open; a create DigitalOcean still processes after our
 * request timed out lands within the settle time. So an intent replaced after it expired has
 * nothing of ours left in flight, and one replaced because a foreign address took its droplet
 * cannot have anything of ours there (one reserved IP per droplet).
 */
import type { CreateIntent } from '../schemas/routed-ip.js';

/** Seconds after the intent is recorded during which a create may be sent for it. */
export const CREATE_WINDOW_SECONDS = 30;
/** Further seconds during which a create sent in the window may still land. */
export const CREATE_SETTLE_SECONDS = 60;

/** The recorded intent (`status.createIntent`) and the time of this call. */
export interface IntentObservation {
  readonly recorded?: CreateIntent;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** Where the recorded intent stands (see the table above). */
export type IntentState = 'absent' | 'open' | 'settling' | 'expired';

/** The state of `obs.recorded`; `occupied` holds node names whose machine holds a foreign address. */
export function intentState(obs: IntentObservation, occupied: ReadonlySet<string> = new Set()): IntentState {
  const r = obs.recorded;
  const since = r ? Date.parse(r.since) : Number.NaN;
  if (!r || Number.isNaN(since) || occupied.has(r.node)) return 'absent';
  const age = (obs.now - since) / 1000;
  if (age < CREATE_WINDOW_SECONDS) return 'open';
  return age < CREATE_WINDOW_SECONDS + CREATE_SETTLE_SECONDS ? 'settling' : 'expired';
}

/** A sibling RoutedIP's recorded intent, as its (possibly stale) status shows it. */
export interface SiblingIntent {
  readonly uid: string;
  readonly node: string;
  readonly since: string;
}

/** True when `a` was recorded before `b` (same second: the smaller uid first). A total order. */
export const recordedBefore = (a: { uid: string; since: string }, b: { uid: string; since: string }): boolean =>
  a.since < b.since || (a.since === b.since && a.uid < b.uid);

/**
 * Nodes this RoutedIP must not aim a create at, because a sibling's intent recorded before its
 * own aims there (every sibling intent when it has none yet: a new one is the youngest). One
 * reserved IP per droplet: of two intents on one droplet only the older may create, the younger
 * chooses again, so two RoutedIPs created together never both wait on one droplet.
 */
export function blockedBySiblings(own: CreateIntent | undefined, ownUid: string, siblings: readonly SiblingIntent[]): Set<string> {
  const mine = own ? { uid: ownUid, since: own.since } : undefined;
  return new Set(siblings.filter((s) => mine === undefined || recordedBefore(s, mine)).map((s) => s.node));
}

/** When a settling intent expires (RFC 3339), for step details. */
export function intentExpiry(r: CreateIntent): string {
  return new Date(Date.parse(r.since) + (CREATE_WINDOW_SECONDS + CREATE_SETTLE_SECONDS) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
