/**
 * `routedip_orphans{provider,kind}` as `OrphanTally` keeps it: one cloud object (scope and id) is
 * one orphan whichever issuers saw it; each issuer's last sighting replaces its previous one, so
 * an issuer that moved to another account, found nothing or was deleted stops counting.
 */
import t from 'tap';
import { createMetrics } from '../../src/metrics.js';
import type { OrphanSighting } from '../../src/reconcile/orphans.js';

const sighting = (scope: string, address: string[], rule: string[] = []): OrphanSighting => ({ scope, ids: { address, rule } });

/** The gauge's series as `provider kind value`, sorted. */
async function series(metrics: ReturnType<typeof createMetrics>): Promise<string[]> {
  const { values } = await metrics.registry.getSingleMetric('routedip_orphans')!.get();
  return values.map((v) => `${String(v.labels.provider)} ${String(v.labels.kind)} ${v.value}`).sort();
}

t.test('two issuers of one account count each object once; an issuer moving to another account takes only its own sighting along', async (t) => {
  const metrics = createMetrics(false);
  metrics.orphans.set('uid-a', 'aws', sighting('aws eu-west-1 ', ['eipalloc-1', 'eipalloc-2'], ['sg-1 tcp/80 0.0.0.0/0']));
  metrics.orphans.set('uid-b', 'aws', sighting('aws eu-west-1 ', ['eipalloc-2', 'eipalloc-1'], ['sg-1 tcp/80 0.0.0.0/0']));
  t.same(await series(metrics), ['aws address 2', 'aws rule 1']);

  metrics.orphans.set('uid-b', 'aws', sighting('aws us-east-1 ', ['eipalloc-1']));
  t.same(await series(metrics), ['aws address 3', 'aws rule 1'], 'the same id in another scope is another object');
  metrics.orphans.set('uid-a', 'aws', sighting('aws eu-west-1 ', []));
  t.same(await series(metrics), ['aws address 1', 'aws rule 0'], 'a sweep finding nothing drops what that issuer saw, and only that');

  metrics.orphans.set('uid-h', 'hetzner', sighting('hetzner https://api.hetzner.cloud/v1', ['7']));
  metrics.orphans.drop('uid-b');
  t.same(await series(metrics), ['aws address 0', 'aws rule 0', 'hetzner address 1', 'hetzner rule 0'], 'a deleted issuer\'s sighting goes; its provider stays at 0 while another issuer of it is tallied');
  metrics.orphans.drop('uid-a');
  t.same(await series(metrics), ['hetzner address 1', 'hetzner rule 0'], 'no issuer of a provider left: no series');
  metrics.orphans.drop('uid-unknown');
  t.same(await series(metrics), ['hetzner address 1', 'hetzner rule 0']);
});

t.test('one issuer listing an object twice counts it once; an object seen by two issuers stays while either sees it', async (t) => {
  const metrics = createMetrics(false);
  metrics.orphans.set('uid-a', 'hetzner', sighting('s', ['1', '1', '2']));
  metrics.orphans.set('uid-b', 'hetzner', sighting('s', ['2']));
  t.same(await series(metrics), ['hetzner address 2', 'hetzner rule 0']);
  metrics.orphans.set('uid-a', 'hetzner', sighting('s', []));
  t.same(await series(metrics), ['hetzner address 1', 'hetzner rule 0'], 'the other issuer still sees 2');
  metrics.orphans.set('uid-b', 'hetzner', sighting('s', []));
  t.same(await series(metrics), ['hetzner address 0', 'hetzner rule 0']);
});
