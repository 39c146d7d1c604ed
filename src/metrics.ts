/**
 * Prometheus metrics, on a registry per app (tests build many apps; a global registry would
 * collide). Labels are bounded sets (hook, code, step, outcome) — never names or secrets.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The metrics an app exposes on GET /metrics. */
export interface Metrics {
  readonly registry: Registry;
  readonly hookRequests: Counter<'hook' | 'code'>;
  readonly hookDuration: Histogram<'hook'>;
  readonly stepWrites: Counter<'step' | 'outcome'>;
  readonly throttled: Counter<'hook'>;
  /** Hook calls holding an in-flight slot now. */
  readonly inFlight: Gauge;
}

/** Creates the registry and its metrics; `defaults` adds process metrics (off in tests). */
export function createMetrics(defaults = true): Metrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
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
  };
}
