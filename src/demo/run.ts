/**
 * The demo scenario on one cloud: starts the real HTTP service on loopback, then plays
 * Metacontroller — the RoutedIP CompositeController and its siblings in metacontroller/ —
 * through four acts and prints a readable trace:
 *   1. the Service is annotated routedip.io/issuer → its RoutedIP is created, the IP assigned
 *      (firewall steps in order), the address written back on the Service, the holder labelled;
 *   2. the node holding the IP goes NotReady → failover, and the holder label follows;
 *   3. the Service's ports change → the firewall follows;
 *   4. the namespace is deleted (reclaim policy Delete) → the issuer (and its Secret) are held
 *      until the RoutedIP has finalized and cleaned the cloud, then everything is let go,
 * and then checks that claim: every object let go, no holder label left, and the cloud exactly
 * as it was before act 1.
 */
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { LOOPBACK_HOSTS } from '../reconcile/policy.js';
import type { DecoratorResponse } from '../schemas/decorator.js';
import type { RoutedIPIssuerStatus, RoutedIPObject } from '../schemas/routed-ip.js';
import { cloudDifference } from './check.js';
import type { DemoCloud } from './clouds.js';
import { applyStringUpdates, callHook, callSibling, siblingRequests, type DemoCluster } from './metacontroller.js';
import { printRound, title } from './print.js';
import { runtimeLine } from '../runtime.js';
import { DEMO_ISSUER, demoCluster, setPorts, setReady } from './scenario.js';

/** The label the Node decorator writes on holders (plan/holder.ts), as users select it. */
const HOLDER = 'routedip.io/holder';
/** uid the demo's "API server" gives the RoutedIP the Service decorator asks for. */
const ROUTEDIP_UID = '6f1c2a9e-demo-4b7e-9d2f-routedip0001';
const DELETED_AT = '2026-01-01T00:00:00Z';

/** Runs the demo on `cloud`; true when every act converged and the cloud was left clean. */
export async function runDemo(cloud: DemoCloud): Promise<boolean> {
  // The demo's fake cloud APIs listen on loopback: endpoint overrides are allowed there only,
  // through the same variable the operator reads (README "The service").
  const { issuerPolicy } = loadConfig({ ...process.env, ISSUER_ENDPOINT_HOSTS: process.env.ISSUER_ENDPOINT_HOSTS ?? LOOPBACK_HOSTS.join(',') });
  const app = buildApp({ registry: cloud.registry, issuerPolicy, logger: false, defaultMetrics: false });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const cluster: DemoCluster = demoCluster(DEMO_ISSUER.name, cloud.provider, cloud.node, cloud.secrets);
  const rip = () => cluster.routedIP as RoutedIPObject;

  /** Syncs the RoutedIP like Metacontroller until the status stops changing (bounded). */
  async function converge(finalizing: boolean): Promise<boolean> {
    const routedIP = cluster.routedIP;
    if (!routedIP) return false;
    const withRoutedIP = cluster as DemoCluster & { routedIP: RoutedIPObject };
    for (let round = 1; round <= 12; round++) {
      const before = JSON.stringify(withRoutedIP.routedIP.status ?? null);
      const writesBefore = cloud.writes().length;
      const r = await callHook(baseUrl, withRoutedIP, finalizing);
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

  /** The Service DecoratorController: annotations written back, the RoutedIP attachment created. */
  async function decorateService(finalizing: boolean): Promise<DecoratorResponse | undefined> {
    const answer = await callSibling<DecoratorResponse>(baseUrl, siblingRequests.service(cluster, finalizing));
    if (!answer) return undefined;
    const { result, changed } = applyStringUpdates(cluster.service.metadata.annotations, answer.annotations ?? {});
    cluster.service = { ...cluster.service, metadata: { ...cluster.service.metadata, annotations: result } };
    if (changed) console.log(`POST /service/${finalizing ? 'finalize' : 'sync'} → Service annotations now: ${Object.entries(result).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    if (finalizing) console.log(`POST /service/finalize → Service ingress-nginx: finalized=${answer.finalized}${answer.finalized ? '' : ' (waits for its RoutedIP)'}`);
    const wanted = answer.attachments[0] as RoutedIPObject | undefined;
    if (wanted && !cluster.routedIP) {
      // What the API server does with the attachment Metacontroller creates: a uid, generation 1.
      cluster.routedIP = { ...wanted, metadata: { ...wanted.metadata, uid: ROUTEDIP_UID, generation: 1 } };
      console.log(`POST /service/sync → attachment RoutedIP ${wanted.metadata.namespace}/${wanted.metadata.name} (serviceRef ${wanted.spec?.serviceRef?.name}, issuer ${wanted.spec?.issuerRef.name}) created`);
    }
    return answer;
  }

  /** The Node DecoratorController on every node; prints what `kubectl get nodes -l routedip.io/holder` would. */
  async function markNodes(): Promise<string[]> {
    for (const [i, node] of cluster.nodes.entries()) {
      const answer = await callSibling<DecoratorResponse>(baseUrl, siblingRequests.node(cluster, node));
      const labels = applyStringUpdates(node.metadata.labels, answer?.labels ?? {});
      const annotations = applyStringUpdates(node.metadata.annotations, answer?.annotations ?? {});
      if (labels.changed || annotations.changed) {
        cluster.nodes[i] = { ...node, metadata: { ...node.metadata, labels: labels.result, annotations: annotations.result } };
        const holds = annotations.result['routedip.io/holds'];
        console.log(`POST /node/sync → ${node.metadata.name}: ${labels.result[HOLDER] === undefined ? `label ${HOLDER} removed` : `label ${HOLDER}=${labels.result[HOLDER]}, annotation routedip.io/holds=${holds}`}`);
      }
    }
    const holders = cluster.nodes.filter((n) => n.metadata.labels?.[HOLDER] !== undefined).map((n) => n.metadata.name);
    console.log(`  kubectl get nodes -l ${HOLDER}: ${holders.join(', ') || 'No resources found'}`);
    return holders;
  }

  /** The issuer CompositeController; prints its status line. */
  async function syncIssuer(finalizing: boolean): Promise<{ status: RoutedIPIssuerStatus; finalized?: boolean } | undefined> {
    const answer = await callSibling<{ status: RoutedIPIssuerStatus; finalized?: boolean }>(baseUrl, siblingRequests.issuer(cluster, finalizing));
    if (!answer) return undefined;
    cluster.issuer = { ...cluster.issuer, status: answer.status };
    const ready = answer.status.conditions.find((c) => c.type === 'Ready');
    console.log(
      `POST /issuer/${finalizing ? 'finalize' : 'sync'} → RoutedIPIssuer ${DEMO_ISSUER.name}: PROVIDER ${answer.status.provider ?? '-'} READY ${ready?.status} ROUTEDIPS ${answer.status.routedIPs}${finalizing ? `  finalized=${answer.finalized} (${ready?.message})` : ''}`,
    );
    return answer;
  }

  /** The Secret DecoratorController's finalize on every credentials Secret; true when all are let go. */
  async function finalizeSecrets(): Promise<boolean> {
    let all = true;
    for (const secret of cluster.secrets) {
      const answer = await callSibling<DecoratorResponse>(baseUrl, siblingRequests.secret(cluster, secret));
      console.log(`POST /secret/finalize → Secret ${secret.metadata.name}: finalized=${answer?.finalized}${answer?.finalized ? '' : ' (a RoutedIP still needs it)'}`);
      all = all && answer?.finalized === true;
    }
    return all;
  }

  const printCloud = () => cloud.state().forEach((line) => console.log(`  cloud: ${line}`));

  try {
    console.log(`RoutedIP demo on ${runtimeLine()}`);
    console.log(`service listening on ${baseUrl}, cloud: ${cloud.label}`);
    const initial = cloud.state();
    printCloud();
    title(`1. kubectl annotate service ingress-nginx routedip.io/issuer=${DEMO_ISSUER.name} (tcp/80, tcp/443)`);
    cluster.service = { ...cluster.service, metadata: { ...cluster.service.metadata, annotations: { 'routedip.io/issuer': DEMO_ISSUER.name } } };
    let ok = (await decorateService(false)) !== undefined && cluster.routedIP !== undefined;
    ok = (await converge(false)) && ok;
    await decorateService(false);
    ok = (await markNodes()).length === 1 && ok;
    ok = (await syncIssuer(false)) !== undefined && ok;
    printCloud();

    const holder = (rip().status as { node?: string } | undefined)?.node ?? '';
    title(`2. Node ${holder} goes NotReady → failover`);
    setReady(cluster, holder, false);
    ok = (await converge(false)) && ok;
    await decorateService(false);
    const moved = await markNodes();
    ok = moved.length === 1 && moved[0] !== holder && ok;
    printCloud();

    title('3. The Service now serves tcp/443 and udp/443 (HTTP/3) instead of tcp/80');
    setPorts(cluster, [{ port: 443, protocol: 'TCP' }, { port: 443, protocol: 'UDP' }]);
    ok = (await converge(false)) && ok;
    printCloud();

    title(`4. kubectl delete namespace ${DEMO_ISSUER.namespace} (reclaim policy Delete): everything in it is deleted at once`);
    const deleting = <T extends { metadata: object }>(o: T): T => ({ ...o, metadata: { ...o.metadata, deletionTimestamp: DELETED_AT } });
    cluster.service = deleting(cluster.service);
    cluster.routedIP = deleting(rip());
    cluster.issuer = deleting(cluster.issuer);
    cluster.secrets = cluster.secrets.map(deleting);
    // The issuer and its Secret are held: the RoutedIP's finalize needs them to clean the cloud.
    const heldIssuer = (await syncIssuer(true))?.finalized === false;
    const heldSecrets = cluster.secrets.length === 0 || !(await finalizeSecrets());
    await decorateService(true);
    const finalized = await converge(true);
    printCloud();
    if (!finalized) {
      console.log('\nNOT finalized: the finalizer stays and Metacontroller would keep calling /finalize.');
      return false;
    }
    cluster.routedIP = undefined; // its last finalizer is gone: the API server deletes it
    const released = (await syncIssuer(true))?.finalized === true && (await finalizeSecrets()) && (await decorateService(true))?.finalized === true;
    const holdersLeft = await markNodes();
    if (!heldIssuer || !heldSecrets || !released || holdersLeft.length > 0) {
      console.log(`\nFAILED: the namespace did not go in order: issuer held ${heldIssuer}, Secrets held ${heldSecrets}, everything released after ${released}, holder labels left ${holdersLeft.join(', ') || 'none'}.`);
      return false;
    }
    console.log(`namespace ${DEMO_ISSUER.namespace}: the Service, the RoutedIP, the issuer${cluster.secrets.length > 0 ? ' and its Secret' : ''} are all let go; no node is labelled ${HOLDER}.`);
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
