/**
 * The demo scenario on one cloud: starts the real HTTP service on loopback, then plays
 * Metacontroller through four acts and prints a readable trace:
 *   1. a RoutedIP is created → IP assigned, firewall steps in order;
 *   2. the node holding the IP goes NotReady → failover;
 *   3. the Service's ports change → the firewall follows;
 *   4. the RoutedIP is deleted with reclaim policy Delete → cloud cleaned, finalized,
 * and then checks that claim: the cloud must be exactly as it was before act 1.
 */
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { LOOPBACK_HOSTS } from '../reconcile/policy.js';
import { cloudDifference } from './check.js';
import type { DemoCloud } from './clouds.js';
import { callHook, type DemoCluster } from './metacontroller.js';
import { printRound, title } from './print.js';
import { runtimeLine } from '../runtime.js';
import { DEMO_ISSUER, demoCluster, setPorts, setReady } from './scenario.js';

/** Runs the demo on `cloud`; true when every act converged and the cloud was left clean. */
export async function runDemo(cloud: DemoCloud): Promise<boolean> {
  // The demo's fake cloud APIs listen on loopback: endpoint overrides are allowed there only,
  // through the same variable the operator reads (README "The service").
  const { issuerPolicy } = loadConfig({ ...process.env, ISSUER_ENDPOINT_HOSTS: process.env.ISSUER_ENDPOINT_HOSTS ?? LOOPBACK_HOSTS.join(',') });
  const app = buildApp({ registry: cloud.registry, issuerPolicy, logger: false, defaultMetrics: false });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const cluster: DemoCluster = demoCluster(DEMO_ISSUER.name, cloud.provider, cloud.node, cloud.secrets);

  /** Syncs like Metacontroller until the status stops changing (bounded). */
  async function converge(finalizing: boolean): Promise<boolean> {
    for (let round = 1; round <= 12; round++) {
      const before = JSON.stringify(cluster.routedIP.status ?? null);
      const writesBefore = cloud.writes().length;
      const r = await callHook(baseUrl, cluster, finalizing);
      printRound(finalizing ? 'finalize' : 'sync', r, cloud.writes().slice(writesBefore));
      if (r.statusCode !== 200 || !r.response) return false;
      if (finalizing && r.response.finalized) return true;
      // Converged: the status stopped changing and nothing is pending (a Ready RoutedIP still
      // asks for a drift check after READY_RESYNC_SECONDS: that is not unfinished work).
      const ready = r.response.status.conditions.find((c) => c.type === 'Ready')?.status === 'True';
      if (JSON.stringify(r.response.status) === before && (r.response.resyncAfterSeconds === undefined || ready)) return true;
      // Metacontroller would wait resyncAfterSeconds; the demo polls at once to stay short.
    }
    return false;
  }
  const printCloud = () => cloud.state().forEach((line) => console.log(`  cloud: ${line}`));

  try {
    console.log(`RoutedIP demo on ${runtimeLine()}`);
    console.log(`service listening on ${baseUrl}, cloud: ${cloud.label}`);
    const initial = cloud.state();
    printCloud();
    title('1. Create RoutedIP ingress/public (Service ingress-nginx on tcp/80, tcp/443)');
    let ok = await converge(false);
    printCloud();

    const holder = (cluster.routedIP.status as { node?: string } | undefined)?.node ?? '';
    title(`2. Node ${holder} goes NotReady → failover`);
    setReady(cluster, holder, false);
    ok = (await converge(false)) && ok;
    printCloud();

    title('3. The Service now serves tcp/443 and udp/443 (HTTP/3) instead of tcp/80');
    setPorts(cluster, [{ port: 443, protocol: 'TCP' }, { port: 443, protocol: 'UDP' }]);
    ok = (await converge(false)) && ok;
    printCloud();

    title('4. kubectl delete routedip public (reclaim policy Delete)');
    cluster.routedIP.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    const finalized = await converge(true);
    printCloud();
    if (!finalized) {
      console.log('\nNOT finalized: the finalizer stays and Metacontroller would keep calling /finalize.');
      return false;
    }
    const { left, gone } = cloudDifference(initial, cloud.state());
    if (left.length > 0 || gone.length > 0) {
      console.log('\nFAILED: finalized, but the cloud is not as it was before the RoutedIP:');
      for (const l of left) console.log(`  left in the cloud: ${l}`);
      for (const g of gone) console.log(`  gone from the cloud: ${g}`);
      return false;
    }
    console.log('\nfinalized, and checked: the cloud is exactly as it was before — nothing this RoutedIP created or added is left in the cloud.');
    return ok;
  } finally {
    await app.close();
  }
}
