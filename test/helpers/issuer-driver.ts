/**
 * Drives the issuer controller (POST /issuer/sync) the way Metacontroller does: the issuer's
 * status from each answer is fed back as `parent.status` of the next call, and the RoutedIPs of
 * the namespace are delivered as related objects, as the view of that call sees them.
 */
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import type { Secret } from '../../src/schemas/kubernetes.js';
import type { RoutedIPIssuerObject, RoutedIPIssuerStatus, RoutedIPObject } from '../../src/schemas/routed-ip.js';
import { NAMESPACE } from '../fixtures/k8s.js';

const keyed = <T extends { metadata: { name: string; namespace?: string } }>(items: readonly T[]) =>
  Object.fromEntries(items.map((o) => [`${o.metadata.namespace ?? NAMESPACE}/${o.metadata.name}`, o]));

/** One answer of /issuer/sync. */
export interface IssuerAnswer {
  readonly code: number;
  readonly status: RoutedIPIssuerStatus;
  readonly resyncAfterSeconds?: number;
  readonly raw: string;
}

/** An issuer whose status is fed back from answer to answer. */
export class IssuerDriver {
  constructor(
    readonly app: FastifyInstance,
    public parent: RoutedIPIssuerObject,
    readonly secrets: readonly Secret[],
  ) {}

  /** One sync with `routedIPs` as this call's view of the namespace. */
  sync(routedIPs: readonly RoutedIPObject[]): Promise<IssuerAnswer> {
    return this.call(routedIPs, false);
  }

  /** One finalize call (the issuer is being deleted) with `routedIPs` as this call's view. */
  finalize(routedIPs: readonly RoutedIPObject[]): Promise<IssuerAnswer> {
    return this.call(routedIPs, true);
  }

  private async call(routedIPs: readonly RoutedIPObject[], finalizing: boolean): Promise<IssuerAnswer> {
    const res = await this.app.inject({
      method: 'POST',
      url: finalizing ? '/issuer/finalize' : '/issuer/sync',
      payload: { parent: this.parent, children: {}, related: { 'RoutedIP.routedip.io/v1alpha1': keyed(routedIPs), 'Secret.v1': keyed(this.secrets) }, finalizing },
    });
    const body = res.json() as { status: RoutedIPIssuerStatus; resyncAfterSeconds?: number };
    if (res.statusCode === 200) this.parent = { ...this.parent, status: body.status };
    return { code: res.statusCode, status: body.status, raw: res.payload, ...(body.resyncAfterSeconds !== undefined ? { resyncAfterSeconds: body.resyncAfterSeconds } : {}) };
  }

  /** The `OrphansFound` condition of the last status. */
  get orphansFound() {
    return (this.parent.status as RoutedIPIssuerStatus | undefined)?.conditions.find((c) => c.type === 'OrphansFound');
  }

  /** Addresses recorded in `status.orphans`, sorted. */
  get orphanAddresses(): string[] {
    return this.orphans.filter((o) => o.kind !== 'rule').map((o) => o.address ?? '').sort();
  }

  /** Rule pairs recorded in `status.orphans` as `<protocol>/<port> <source> <owner>`, sorted. */
  get orphanRules(): string[] {
    return this.orphans.filter((o) => o.kind === 'rule').map((o) => `${o.rule} ${o.owner}`).sort();
  }

  private get orphans() {
    return (this.parent.status as RoutedIPIssuerStatus | undefined)?.orphans ?? [];
  }

  /**
   * The value of `routedip_orphans{provider,kind}` / `routedip_orphans_released_total{provider,kind}`
   * on GET /metrics: of `kind`, or summed over both kinds.
   */
  async metric(name: 'routedip_orphans' | 'routedip_orphans_released_total', provider: string, kind?: 'address' | 'rule'): Promise<number | undefined> {
    const text = (await this.app.inject({ method: 'GET', url: '/metrics' })).payload;
    const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(`provider="${provider}"`) && (kind === undefined || l.includes(`kind="${kind}"`)));
    return lines.length === 0 ? undefined : lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }
}

/**
 * Two more syncs with `routedIPs`: neither makes a write (as `writes` counts them, on the cloud's
 * side or the client's) and both answer the same bytes.
 */
export async function quietAndSteady(t: Test, driver: IssuerDriver, routedIPs: readonly RoutedIPObject[], writes: () => number, message: string): Promise<void> {
  const before = writes();
  const a = await driver.sync(routedIPs);
  const b = await driver.sync(routedIPs);
  t.equal(writes() - before, 0, message);
  t.equal(b.raw, a.raw, 'steady state: the same status bytes');
}
