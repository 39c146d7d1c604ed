/**
 * Prometheus metrics, on a registry per app (tests build many apps; a global registry would
 * collide). Labels are bounded sets (hook, code, step, outcome) — never names or secrets.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OrphanKind } from './schemas/routed-ip.js';
import type { OrphanSighting } from './reconcile/orphans.js';

/** The metrics an app exposes on GET /metrics. */
export interface Metrics {
  readonly registry: Registry;
  readonly hookRequests: Counter<'hook' | 'code'>;
  readonly hookDuration: Histogram<'hook'>;
  readonly stepWrites: Counter<'step' | 'outcome'>;
  readonly throttled: Counter<'hook'>;
  /** Hook calls holding an in-flight slot now. */
  readonly inFlight: Gauge;
  /** Distinct orphans the issuers' last sweeps found, per provider (see `OrphanTally`). */
  readonly orphans: OrphanTally;
  /** Orphans the sweeps removed (addresses released, rule pairs revoked), each once whichever issuers swept it. */
  readonly orphansReleased: Counter<'provider' | 'kind'>;
}

/** What the upload gauges read when scraped: `UploadBudget` (src/uploads.ts). */
export interface UploadGauges {
  readonly bytesInFlight: number;
  readonly waitingCalls: number;
}

/** Issuers whose last sighting is kept at most (oldest dropped first). */
const MAX_TALLIED_ISSUERS = 10_000;

const KINDS = ['address', 'rule'] as const;

/** One object's key in the tally: scope and id (neither holds a line break). */
const objectKey = (scope: string, id: string): string => `${scope}\n${id}`;

/** The orphans of one provider: how many tallied issuers see each object, per kind. */
interface ProviderTally {
  issuers: number;
  readonly seenBy: Record<OrphanKind, Map<string, number>>;
}

/**
 * `routedip_orphans{provider,kind}`: the distinct orphans (kind `address` or `rule`) the issuers'
 * last sweeps found, per provider. An orphan is a cloud object, named by the issuer's object scope
 * and its id (`OrphanSighting`), so two issuers of one account that both find it count it once.
 * Each issuer's last sighting is kept (by UID, never a name in a label) and replaces its previous
 * one: an issuer whose sweep finds nothing, or that moved to another account, stops counting what
 * it saw before, and a deleted issuer's sighting is dropped. A provider shows 0 while an issuer of
 * it is tallied, and no series once none is.
 */
export class OrphanTally {
  private readonly issuers = new Map<string, { provider: string; keys: Readonly<Record<OrphanKind, readonly string[]>> }>();
  private readonly providers = new Map<string, ProviderTally>();
  constructor(private readonly gauge: Gauge<'provider' | 'kind'>) {}

  /** Records what issuer `key`'s last sweep found, replacing its previous sighting. */
  set(key: string, provider: string, seen: OrphanSighting): void {
    this.forget(key);
    const keys = { address: [...new Set(seen.ids.address.map((id) => objectKey(seen.scope, id)))], rule: [...new Set(seen.ids.rule.map((id) => objectKey(seen.scope, id)))] };
    this.issuers.set(key, { provider, keys });
    let tally = this.providers.get(provider);
    if (!tally) this.providers.set(provider, (tally = { issuers: 0, seenBy: { address: new Map(), rule: new Map() } }));
    tally.issuers++;
    for (const kind of KINDS) for (const k of keys[kind]) tally.seenBy[kind].set(k, (tally.seenBy[kind].get(k) ?? 0) + 1);
    if (this.issuers.size > MAX_TALLIED_ISSUERS) this.forget(this.issuers.keys().next().value as string);
    this.publish();
  }

  /** Forgets issuer `key` (deleted). */
  drop(key: string): void {
    if (this.forget(key)) this.publish();
  }

  private forget(key: string): boolean {
    const entry = this.issuers.get(key);
    if (!entry) return false;
    this.issuers.delete(key);
    const tally = this.providers.get(entry.provider);
    if (!tally) return true;
    for (const kind of KINDS) {
      for (const k of entry.keys[kind]) {
        const n = (tally.seenBy[kind].get(k) ?? 1) - 1;
        if (n > 0) tally.seenBy[kind].set(k, n);
        else tally.seenBy[kind].delete(k);
      }
    }
    if (--tally.issuers === 0) this.providers.delete(entry.provider);
    return true;
  }

  private publish(): void {
    this.gauge.reset();
    for (const [provider, tally] of this.providers) for (const kind of KINDS) this.gauge.set({ provider, kind }, tally.seenBy[kind].size);
  }
}

/**
 * Creates the registry and its metrics; `defaults` adds process metrics (off in tests);
 * `uploads`, when given, is read at each scrape for `routedip_hook_bytes_in_flight` and
 * `routedip_hook_calls_waiting`.
 */
export function createMetrics(defaults = true, uploads?: UploadGauges): Metrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  if (uploads) {
    new Gauge({
      name: 'routedip_hook_bytes_in_flight',
      help: 'Bytes of hook calls in the service, from their first byte until answered (MAX_BODY_BYTES_IN_FLIGHT bounds them).',
      registers: [registry],
      collect() {
        this.set(uploads.bytesInFlight);
      },
    });
    new Gauge({
      name: 'routedip_hook_calls_waiting',
      help: 'Hook calls waiting, unread, for room under MAX_BODY_BYTES_IN_FLIGHT.',
      registers: [registry],
      collect() {
        this.set(uploads.waitingCalls);
      },
    });
  }
  return {
    registry,
    hookRequests: new Counter({ name: 'routedip_hook_requests_total', help: 'Hook calls by hook and HTTP status code.', labelNames: ['hook', 'code'], registers: [registry] }),
    hookDuration: new Histogram({
      name: 'routedip_hook_duration_seconds',
      help: 'Time to answer a hook call, cloud calls included.',
      labelNames: ['hook'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    stepWrites: new Counter({ name: 'routedip_step_writes_total', help: 'Cloud writes by step and outcome.', labelNames: ['step', 'outcome'], registers: [registry] }),
    throttled: new Counter({ name: 'routedip_throttled_total', help: 'Hook calls answered 429 (rate budget spent or overload).', labelNames: ['hook'], registers: [registry] }),
    inFlight: new Gauge({ name: 'routedip_hooks_in_flight', help: 'Hook calls holding an in-flight slot (the limit answers 429 beyond it).', registers: [registry] }),
    orphans: new OrphanTally(
      new Gauge({ name: 'routedip_orphans', help: 'Distinct addresses and firewall rule pairs (kind) carrying our marks whose RoutedIP is gone, as the issuers\' last sweeps found them (an object seen by several issuers counts once).', labelNames: ['provider', 'kind'], registers: [registry] }),
    ),
    orphansReleased: new Counter({ name: 'routedip_orphans_released_total', help: 'Orphans the sweeps removed: addresses released, firewall rule pairs revoked (kind); one found gone already is not counted again.', labelNames: ['provider', 'kind'], registers: [registry] }),
  };
}
