/**
 * The seeded concurrency suite's driver (issue 12 "Done when"; docs/concurrency.md): plays
 * Metacontroller against one service instance for 2–5 RoutedIPs on one cloud account —
 * overlapping syncs, calls it gives up on (the client aborts, and the key is requeued at once
 * while the abandoned call may still be running), stale `parent.status` (metacontroller#1072:
 * the stale answer is written over the newer status), lost responses and injected failures at
 * the cloud — then stops the faults, syncs until every RoutedIP is Ready (bounded), deletes them
 * all under `Delete`, and checks the invariants against the cloud itself:
 *
 * - duplicates: a RoutedIP owning more than one address, two RoutedIPs reporting one address,
 *   or more addresses of ours than RoutedIPs;
 * - foreign: an address, firewall rule or firewall member seeded before the operator changed or gone
 *   (the service runs with `CLUSTER_NAME` = `CONCURRENCY_CLUSTER`, and the clouds that mark rules
 *   seed one marked by another cluster for one of the scenario's RoutedIPs);
 * - leaks: anything of ours left after every finalize said `finalized: true`;
 * - wedges: a RoutedIP not Ready within `CONVERGE_PASSES` fault-free passes, or not finalized.
 *
 * Everything the scenario decides comes from one seeded generator per scenario (`ROUTEDIP_SEED`
 * overrides the default; `ROUTEDIP_ONLY=<index>` replays one scenario). The plan of a scenario —
 * RoutedIPs, rounds, which calls are aborted after how many cloud calls, stale picks, faults —
 * is the same on every replay; the interleaving of concurrent calls over real sockets may differ.
 */
import { Writable } from 'node:stream';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { Test } from 'tap';
import type { IssuerContext, IssuerRegistry } from '../../src/issuers/registry.js';
import type { ProviderName, RoutedIPIssuer } from '../../src/issuers/issuer.js';
import type { Node, Secret } from '../../src/schemas/kubernetes.js';
import type { RoutedIPIssuerSpec, RoutedIPObject, RoutedIPStatus } from '../../src/schemas/routed-ip.js';
import type { SyncResponse } from '../../src/schemas/metacontroller.js';
import { endpointSlice, issuer, routedIP, service, syncRequest } from '../fixtures/k8s.js';
import { buildApp } from '../../src/app.js';
import { TEST_POLICY, type Teardown } from '../helpers/app.js';

/** The fixed default seed (CI); `ROUTEDIP_SEED` overrides it to reproduce or explore. */
export const SEED = Number(process.env.ROUTEDIP_SEED ?? 20261128);

/** `ROUTEDIP_TRACE=1`: every answer (address, node, firewall record) on stderr, for replays. */
const TRACE = process.env.ROUTEDIP_TRACE !== undefined;

/**
 * Fault-free passes over every RoutedIP before one not Ready counts as wedged. Between passes the
 * service's clock moves on by the requeue it asked for, so 30 passes cover the product's longest
 * designed wait (a create that may still land: 90 s at 5 s requeues) with room to spare.
 */
export const CONVERGE_PASSES = 30;
/** Finalize attempts per RoutedIP (the clock moved on likewise) before it counts as wedged. */
export const FINALIZE_ATTEMPTS = 30;

/** mulberry32: small, fast, good enough to pick scenarios. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random helper over one generator. */
export class Dice {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  subset<T>(xs: readonly T[]): T[] {
    const out = xs.filter(() => this.chance(0.6));
    return out.length > 0 ? out : [this.pick(xs)];
  }
}

/** One cloud account under test, fresh per scenario. */
export interface CloudUnderTest {
  readonly nodes: Node[];
  readonly secrets: Secret[];
  issuerSpec(): RoutedIPIssuerSpec;
  /** Places foreign addresses, firewall rules and members; called once before any sync. */
  seedForeign(dice: Dice): Promise<void>;
  /** Violations of "foreign resources untouched" (compared with what `seedForeign` recorded). */
  foreignViolations(): Promise<string[]>;
  /** Addresses of ours in the account (not foreign), with the RoutedIP uid they are marked with, if the cloud marks. */
  ourAddresses(): Promise<Array<{ address: string; uid?: string }>>;
  /** Entries of ours left on the firewall (`rule …`, `member …`), for the leak check. */
  ourFirewallEntries(): Promise<string[]>;
  /** Arms a fault on a random write for the next call of it (a failure, or a lost response: applied, answer lost). */
  injectFault(dice: Dice): 'lost' | 'failure';
  clearFaults(): void;
  /** Metacontroller's clock moved to `now` (ms): a cloud's rate window refills as it would. */
  timePassed?(now: number): void;
  /** Frees the account (a fake's server); called after the scenario. */
  close?(): Promise<void>;
}

/** One issuer's suite: the production factory (built once, as in the process) and a fresh account per scenario. */
export interface Suite {
  /** Name in summaries and test names (`digitalocean`, `aws-moto`, …). */
  readonly name: string;
  readonly provider: ProviderName;
  /** The registry holding the provider's production factory, shared by every scenario. */
  readonly registry: IssuerRegistry;
  /** A fresh account for scenario `index` (seeded by `dice`). */
  cloud(dice: Dice, index: number): Promise<CloudUnderTest>;
  /** Scenarios by default (`ROUTEDIP_SCENARIOS` overrides). */
  readonly scenarios: number;
}

/** What a run counted. */
export interface Counts {
  scenarios: number;
  routedIPs: number;
  syncs: number;
  overlapping: number;
  aborted: number;
  requeued: number;
  stale: number;
  lost: number;
  failures: number;
  finalizes: number;
  duplicates: number;
  foreign: number;
  leaks: number;
  wedges: number;
  violations: string[];
}

export const emptyCounts = (): Counts => ({
  scenarios: 0, routedIPs: 0, syncs: 0, overlapping: 0, aborted: 0, requeued: 0, stale: 0, lost: 0, failures: 0, finalizes: 0,
  duplicates: 0, foreign: 0, leaks: 0, wedges: 0, violations: [],
});

interface Rip {
  readonly object: RoutedIPObject;
  status?: RoutedIPStatus;
  /** Every status Metacontroller wrote, oldest first (a stale read picks one of these). */
  readonly history: RoutedIPStatus[];
  deleted: boolean;
}

/** When a call is given up on: after its `at`-th issuer call starts, between calls or while it runs. */
interface AbortPlan {
  readonly at: number;
  /** true: the client goes while that cloud call is in flight; false: the call starts only once the server saw it go. */
  readonly midCall: boolean;
  readonly fire: () => void;
  fired: boolean;
}

const ready = (s: RoutedIPStatus | undefined) => s?.conditions.find((c) => c.type === 'Ready')?.status === 'True';

/** The RoutedIP uid an issuer call is for, when its arguments name the owner. */
function ownerUid(method: string, args: unknown[]): string | undefined {
  const owner =
    method === 'findRoutedIP' ? (args[0] as { owner?: { uid?: string } } | undefined)?.owner
    : method === 'createRoutedIP' ? args[0]
    : method === 'findRoutedIPFirewall' ? args[1]
    : method === 'addRoutedIPFirewallPort' || method === 'deleteRoutedIPFirewallPort' ? args[2]
    : undefined;
  return (owner as { uid?: string } | undefined)?.uid;
}

/** Resolves when `signal` aborts, or after `ms` (the server may not notice a closed client at once). */
function aborted(signal: AbortSignal, ms: number): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => { if (TRACE) console.error(`abort not seen by the server after ${ms} ms`); resolve(); }, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/**
 * The service's registry for one run: the suite's production factory, with every issuer call
 * first yielding the event loop 0–2 times (so overlapping syncs interleave without any sleep),
 * and calls armed with an abort plan given up on by the client at their planned issuer call.
 */
class Instrumented {
  /** RoutedIP uid → the abort plan of its next call. */
  readonly plans = new Map<string, AbortPlan>();
  jitter: Dice = new Dice(rng(1));

  registry(suite: Suite): IssuerRegistry {
    const base = suite.registry[suite.provider];
    if (!base) throw new Error(`the suite's registry has no ${suite.provider} factory`);
    const factory = async (context: IssuerContext): Promise<RoutedIPIssuer> => {
      const issuer = await base(context);
      let calls = 0;
      let plan: AbortPlan | undefined;
      let bound = false;
      const around = (method: string, fn: (...a: unknown[]) => Promise<unknown>) => async (...args: unknown[]) => {
        for (let i = this.jitter.int(0, 2); i > 0; i--) await yieldTurn();
        if (!bound) {
          const uid = ownerUid(method, args);
          if (uid !== undefined) {
            bound = true;
            plan = this.plans.get(uid);
            this.plans.delete(uid);
          }
        }
        calls += 1;
        if (plan && !plan.fired && calls >= plan.at) {
          plan.fired = true;
          plan.fire();
          if (!plan.midCall) await aborted(context.session.signal, 2000);
        }
        return fn.apply(issuer, args);
      };
      // A Proxy: class-based issuers keep their methods on the prototype.
      return new Proxy(issuer, {
        get(target, prop, receiver) {
          const value: unknown = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'nodeTarget' || prop === 'constructor') return value;
          return around(prop, value as (...a: unknown[]) => Promise<unknown>);
        },
      });
    };
    return { [suite.provider]: factory };
  }
}

/** The service's `CLUSTER_NAME`: its rule marks carry it, as a production install's do. */
export const CONCURRENCY_CLUSTER = 'seeded';

/**
 * A rule mark of ANOTHER cluster for this suite's first RoutedIP (`ingress/rip-0`): seeded on
 * tcp/443 from 0.0.0.0/0, a pair every scenario wants, so that every one of them must use it and
 * never own, revoke or wait on it.
 */
export const OTHER_CLUSTER_MARK = 'routedip:ingress/rip-0@another-cluster';

/** One service instance for a whole run, listening on an ephemeral port (building an app per scenario would dominate the run). */
async function startService(t: Teardown, registry: IssuerRegistry, clock: Clock): Promise<string> {
  // The production log level (LOG_LEVEL's default), written nowhere: the checks read the cloud.
  const app = buildApp({ registry, clock: () => new Date(clock.now), defaultMetrics: false, issuerPolicy: TEST_POLICY, clusterName: CONCURRENCY_CLUSTER, logger: { level: 'info', stream: new Writable({ write: (_c, _e, done) => done() }) } });
  t.teardown(() => app.close());
  return app.listen({ port: 0, host: '127.0.0.1' });
}

/**
 * The service's clock (status times, how long a create intent may still land): Metacontroller's
 * time, moved on by the harness as Metacontroller would wait (a requeue's `resyncAfterSeconds`),
 * so a bounded wait of the product is waited for without sleeping. Deadlines and rate budgets keep
 * real time.
 */
export interface Clock {
  now: number;
}

/** The run's clock (one per process: each suite file is its own process). Pass `() => clock.now` as an issuer factory's `now`. */
export const clock: Clock = { now: Date.now() };

/** Runs scenario `index` of `seed` against `cloud` through the service at `base`, adding to `counts`. */
async function runScenario(base: string, instrumented: Instrumented, clock: Clock, cloud: CloudUnderTest, seed: number, index: number, counts: Counts): Promise<void> {
  const dice = new Dice(rng(seed * 1_000_003 + index));
  instrumented.jitter = new Dice(rng(seed * 7_919 + index));
  const label = `seed ${seed} scenario ${index}`;
  await cloud.seedForeign(dice);
  const rips: Rip[] = Array.from({ length: dice.int(2, 5) }, (_, i) => {
    const object = routedIP(`rip-${i}`, { serviceRef: { name: 'ingress-nginx' } });
    // A uid of its own per scenario: nothing a process keeps across calls may carry over.
    return { object: { ...object, metadata: { ...object.metadata, uid: `uid-s${index}-rip-${i}` } }, history: [], deleted: false };
  });
  counts.scenarios += 1;
  counts.routedIPs += rips.length;
  const ports = [80, 443];
  const nodes = cloud.nodes;
  let nodeState = nodes.map((n) => ({ ...n }));

  const view = (r: Rip, stale: boolean): RoutedIPObject => {
    const status = stale && r.history.length > 1 ? dice.pick(r.history.slice(0, -1)) : r.status;
    const deletion = r.deleted ? { deletionTimestamp: '2026-11-28T07:00:00Z' } : {};
    return { ...r.object, metadata: { ...r.object.metadata, ...deletion }, ...(status ? { status } : {}) };
  };
  const call = async (r: Rip, opts: { finalizing: boolean; stale: boolean; abort?: { at: number; midCall: boolean } }): Promise<(SyncResponse & { finalized?: boolean }) | undefined> => {
    const request = syncRequest({
      parent: view(r, opts.stale),
      issuers: [issuer('cloud', cloud.issuerSpec())],
      nodes: nodeState,
      services: [service('ingress-nginx', ports)],
      endpointSlices: [endpointSlice('ingress-nginx', nodes.map((n) => ({ nodeName: n.metadata.name })), ports)],
      secrets: cloud.secrets,
      routedIPs: rips.filter((s) => s !== r).map((s) => view(s, opts.stale && dice.chance(0.5))),
      ...(opts.finalizing ? { finalizing: true } : {}),
    });
    const controller = new AbortController();
    const t0 = Date.now();
    if (opts.abort) instrumented.plans.set(r.object.metadata.uid!, { ...opts.abort, fired: false, fire: () => controller.abort() });
    try {
      const res = await fetch(`${base}/${opts.finalizing ? 'finalize' : 'sync'}`, {
        method: 'POST',
        body: JSON.stringify(request),
        headers: { 'content-type': 'application/json' },
        signal: controller.signal,
      });
      const body = (await res.json()) as SyncResponse & { finalized?: boolean };
      if (res.status !== 200) {
        if (res.status !== 429) counts.violations.push(`${label}: ${r.object.metadata.name} answered HTTP ${res.status}`);
        return undefined;
      }
      if (TRACE) console.error(`${label} ${r.object.metadata.name} ${opts.finalizing ? 'finalize' : 'sync'}${opts.stale ? ' (stale)' : ''} ${Date.now() - t0} ms: ${JSON.stringify(process.env.ROUTEDIP_TRACE === 'full' ? body : { address: body.status.address, node: body.status.node, firewall: body.status.firewall, ready: ready(body.status), finalized: body.finalized })}`);
      // Metacontroller writes the status it was answered (also when it came from a stale parent).
      r.status = body.status;
      r.history.push(body.status);
      return body;
    } catch (err) {
      if (!controller.signal.aborted) throw err;
      if (TRACE) console.error(`${label} ${r.object.metadata.name} ${opts.finalizing ? 'finalize' : 'sync'}${opts.stale ? ' (stale)' : ''}: aborted`);
      counts.aborted += 1;
      return undefined;
    } finally {
      instrumented.plans.delete(r.object.metadata.uid!);
    }
  };

  /**
   * Metacontroller's wait before the next pass: the soonest requeue a RoutedIP not Ready yet asked
   * for (each key has its own; a sibling's status write re-syncs the others anyway), at least 1 s.
   */
  const waitFor = (answers: Array<SyncResponse | undefined>) => {
    const requeues = answers.filter((a) => a !== undefined && !ready(a.status)).map((a) => a!.resyncAfterSeconds ?? 0).filter((s) => s > 0);
    clock.now += 1000 * Math.max(1, requeues.length > 0 ? Math.min(...requeues) : 1);
    cloud.timePassed?.(clock.now);
  };

  // Fault phase: overlapping syncs of random subsets, with stale statuses, aborts and faults.
  const rounds = dice.int(2, 5);
  for (let round = 0; round < rounds; round++) {
    clock.now += 1000;
    cloud.timePassed?.(clock.now);
    if (dice.chance(0.25)) {
      const victim = dice.pick(nodes).metadata.name;
      nodeState = nodes.map((n) => (n.metadata.name === victim ? { ...n, status: { conditions: [{ type: 'Ready', status: 'False' }] } } : { ...n }));
    } else nodeState = nodes.map((n) => ({ ...n }));
    for (let f = dice.int(0, 2); f > 0; f--) {
      if (cloud.injectFault(dice) === 'lost') {
        counts.lost += 1;
      } else counts.failures += 1;
    }
    const batch = dice.subset(rips);
    if (batch.length > 1) counts.overlapping += 1;
    await Promise.all(
      batch.map(async (r) => {
        const stale = dice.chance(0.25);
        if (stale) {
          counts.stale += 1;
        }
        const abort = dice.chance(0.25) ? { at: dice.int(1, 8), midCall: dice.chance(0.5) } : undefined;
        const requeue = dice.chance(0.7);
        counts.syncs += 1;
        const answer = await call(r, { finalizing: false, stale, ...(abort ? { abort } : {}) });
        // Metacontroller requeues a key ~5 ms after its hook timed out: the retry overlaps the
        // abandoned call, which may still be finishing its cloud request.
        if (abort && answer === undefined && requeue) {
          counts.requeued += 1;
          counts.syncs += 1;
          await call(r, { finalizing: false, stale: false });
        }
      }),
    );
  }

  // Faults stop: every RoutedIP must become Ready within a bounded number of passes.
  cloud.clearFaults();
  nodeState = nodes.map((n) => ({ ...n }));
  for (let pass = 0; pass < CONVERGE_PASSES && !rips.every((r) => ready(r.status)); pass++) {
    const answers = [];
    for (const r of rips) {
      counts.syncs += 1;
      answers.push(await call(r, { finalizing: false, stale: false }));
    }
    waitFor(answers);
  }
  // One more pass: Ready must hold once every sibling has settled.
  for (const r of rips) {
    counts.syncs += 1;
    await call(r, { finalizing: false, stale: false });
  }
  for (const r of rips.filter((x) => !ready(x.status))) {
    counts.wedges += 1;
    counts.violations.push(`${label}: ${r.object.metadata.name} not Ready: ${JSON.stringify(r.status?.conditions.find((c) => c.type === 'Ready'))}`);
  }

  // Duplicates: one address per RoutedIP in the cloud, and no address reported twice.
  const ours = await cloud.ourAddresses();
  const perUid = new Map<string, number>();
  for (const a of ours) if (a.uid !== undefined) perUid.set(a.uid, (perUid.get(a.uid) ?? 0) + 1);
  for (const [uid, n] of perUid) {
    if (n > 1) {
      counts.duplicates += 1;
      counts.violations.push(`${label}: ${uid} owns ${n} addresses`);
    }
  }
  const reported = rips.map((r) => r.status?.address).filter((a): a is string => a !== undefined);
  if (new Set(reported).size !== reported.length) {
    counts.duplicates += 1;
    counts.violations.push(`${label}: two RoutedIPs report one address (${reported.join(', ')})`);
  }
  if (ours.length > rips.length) {
    counts.duplicates += 1;
    counts.violations.push(`${label}: ${ours.length} addresses of ours for ${rips.length} RoutedIPs (${ours.map((a) => a.address).join(', ')})`);
  }

  // Delete every RoutedIP (Delete policy); the finalizer goes only when the cloud is clean.
  for (const r of rips) r.deleted = true;
  const order = [...rips].sort(() => dice.next() - 0.5);
  for (const r of order) {
    let done = false;
    for (let i = 0; i < FINALIZE_ATTEMPTS && !done; i++) {
      counts.finalizes += 1;
      const answer = await call(r, { finalizing: true, stale: false });
      done = answer?.finalized === true;
      if (!done) waitFor([answer]);
    }
    if (!done) {
      counts.wedges += 1;
      counts.violations.push(`${label}: ${r.object.metadata.name} never finalized: ${JSON.stringify(r.status?.conditions.find((c) => c.type === 'Ready'))}`);
    }
    // Metacontroller removes the finalizer: the object is gone for its siblings too.
    rips.splice(rips.indexOf(r), 1);
  }
  const addresses = (await cloud.ourAddresses()).map((a) => `address ${a.address}`);
  const entries = await cloud.ourFirewallEntries();
  if (addresses.length + entries.length > 0) {
    counts.leaks += addresses.length + entries.length;
    counts.violations.push(`${label}: left after Delete finalize: ${[...addresses, ...entries].join(', ')}`);
  }
  const foreign = await cloud.foreignViolations();
  counts.foreign += foreign.length;
  for (const v of foreign) counts.violations.push(`${label}: ${v}`);
}

/** The counts as one printable summary line. */
export function formatCounts(name: string, seed: number, c: Counts, seconds: number): string {
  return (
    `concurrency ${name} seed=${seed}: scenarios=${c.scenarios} duplicates=${c.duplicates} foreignTouched=${c.foreign} leaks=${c.leaks} wedges=${c.wedges}` +
    ` | routedIPs=${c.routedIPs} syncs=${c.syncs} overlappingRounds=${c.overlapping} aborted=${c.aborted}` +
    ` requeuedAfterAbort=${c.requeued} staleStatuses=${c.stale} lostResponses=${c.lost} injectedFailures=${c.failures} finalizes=${c.finalizes} time=${seconds.toFixed(1)}s`
  );
}

/**
 * Runs `suite` as one tap test: `ROUTEDIP_SCENARIOS` scenarios (or the suite's default) from
 * `ROUTEDIP_SEED`, or only scenario `ROUTEDIP_ONLY`; prints the summary line and fails on any
 * violation, printing each failing scenario's seed and index.
 */
export function runSuite(t: Test, suite: Suite, skip?: string): void {
  const scenarios = Number(process.env.ROUTEDIP_SCENARIOS ?? suite.scenarios);
  const only = process.env.ROUTEDIP_ONLY === undefined ? undefined : Number(process.env.ROUTEDIP_ONLY);
  t.test(`${suite.name}: ${only !== undefined ? `scenario ${only}` : `${scenarios} seeded scenarios`} keep every invariant`, { timeout: 900_000, ...(skip ? { skip } : {}) }, async (t) => {
    const counts = emptyCounts();
    const instrumented = new Instrumented();
    const base = await startService(t, instrumented.registry(suite), clock);
    const started = Date.now();
    for (let i = only ?? 0; i < (only !== undefined ? only + 1 : scenarios); i++) {
      const cloud = await suite.cloud(new Dice(rng(SEED + 7919 * i)), i);
      try {
        await runScenario(base, instrumented, clock, cloud, SEED, i, counts);
      } finally {
        await cloud.close?.();
      }
    }
    const line = formatCounts(suite.name, SEED, counts, (Date.now() - started) / 1000);
    t.comment(line);
    console.log(line);
    for (const v of counts.violations.slice(0, 20)) console.log(`  FAILED ${v} (replay: ROUTEDIP_SEED=${SEED} ROUTEDIP_ONLY=${v.replace(/^seed \d+ scenario (\d+):.*$/s, '$1')})`);
    t.ok(counts.scenarios >= (only !== undefined ? 1 : scenarios), `${counts.scenarios} scenarios`);
    if (only === undefined && scenarios >= 50) t.ok(counts.aborted > 0 && counts.stale > 0 && counts.lost > 0 && counts.overlapping > 0 && counts.requeued > 0, 'every kind of fault happened');
    t.same(counts.violations.slice(0, 20), [], 'no violation (first 20 shown, each with its seed and scenario)');
    t.equal(counts.duplicates, 0, 'no duplicate IPs');
    t.equal(counts.foreign, 0, 'no foreign resource touched');
    t.equal(counts.leaks, 0, 'no leak after Delete finalize');
    t.equal(counts.wedges, 0, 'no permanent wedge');
  });
}
