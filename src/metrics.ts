/**
 * Prometheus metrics, on a registry per app (tests build many apps; a global registry would
 * collide). Labels are bounded sets (hook, code, step, outcome) — never names or secrets.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OrphanKind } from './schemas/routed-ip.js';

/** The metrics an app exposes on GET /metrics. */
export interface Metrics {
  readonly registry: Registry;
  readonly hookRequests: Counter<'hook' | 'code'>;
  readonly hookDuration: Histogram<'hook'>;
  readonly stepWrites: Counter<'step' | 'outcome'>;
  readonly throttled: Counter<'hook'>;
  /** Hook calls holding an in-flight slot now. */
  readonly inFlight: Gauge;
  /** Orphans the issuers' last sweeps found, summed per provider (see `OrphanTally`). */
  readonly orphans: OrphanTally;
  /** Orphans the sweep removed (addresses released, rule pairs revoked). */
  readonly orphansReleased: Counter<'provider' | 'kind'>;
}

/** What the upload gauges read when scraped: `UploadBudget` (src/uploads.ts). */
export interface UploadGauges {
  readonly bytesInFlight: number;
  readonly waitingCalls: number;
}

/** Issuers whose last count is kept at most (oldest dropped first). */
const MAX_TALLIED_ISSUERS = 10_000;

/**
 * `routedip_orphans{provider,kind}`: the orphans (kind `address` or `rule`) each issuer's last
 * sweep found, summed per provider. Counts are kept per issuer (by UID, never a name in a label)
 * so that one issuer's sweep replaces its own count and not another's; a deleted issuer's count
 * is dropped.
 */
export class OrphanTally {
  private readonly counts = new Map<string, { provider: string; count: Readonly<Record<OrphanKind, number>> }>();
  constructor(private readonly gauge: Gauge<'provider' | 'kind'>) {}
  /** Records the counts of issuer `key`'s last sweep. */
  set(key: string, provider: string, count: Readonly<Record<OrphanKind, number>>): void {
    this.counts.delete(key);
    this.counts.set(key, { provider, count });
    if (this.counts.size > MAX_TALLIED_ISSUERS) this.counts.delete(this.counts.keys().next().value as string);
    this.publish();
  }
  /** Forgets issuer `key` (deleted). */
  drop(key: string): void {
    if (this.counts.delete(key)) this.publish();
  }
  private publish(): void {
    const sums = new Map<string, Record<OrphanKind, number>>();
    for (const { provider, count } of this.counts.values()) {
      const sum = sums.get(provider) ?? { address: 0, rule: 0 };
      sum.address += count.address;
      sum.rule += count.rule;
      sums.set(provider, sum);
    }
    this.gauge.reset();
    for (const [provider, sum] of sums) for (const kind of ['address', 'rule'] as const) this.gauge.set({ provider, kind }, sum[kind]);
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
      new Gauge({ name: 'routedip_orphans', help: 'Addresses and firewall rule pairs (kind) carrying our marks whose RoutedIP is gone, as the last sweep of each issuer found them.', labelNames: ['provider', 'kind'], registers: [registry] }),
    ),
    orphansReleased: new Counter({ name: 'routedip_orphans_released_total', help: 'Orphans the sweep removed: addresses released, firewall rule pairs revoked (kind).', labelNames: ['provider', 'kind'], registers: [registry] }),
  };
}
