/**
 * The sibling controllers in metacontroller/, each driven by real Metacontroller on the memory
 * issuer: routedip-nodes marks the holder Node (and moves the mark on failover), routedip-issuers
 * writes the issuer's status and holds a deleted issuer while a RoutedIP uses it,
 * routedip-services turns an annotated Service into a RoutedIP and back, and routedip-secrets
 * holds labelled Secrets (the DigitalOcean scenario holds one its RoutedIP needs).
 */
import t from 'tap';
import { RoutedIPIssuerStatusSchema } from '../../../src/schemas/routed-ip.js';
import { connect, eventually, type Json } from '../kube.js';
import { condition, issuer, routedIP, secret, service, SCENARIO_LABEL } from '../objects.js';
import { Runbook } from '../runbook.js';
import { crdStatusSchema, prunedPaths, schemaErrors } from '../shape.js';

const kube = connect(t);
if (kube) {
  const ns = 'e2e-controllers';
  const run = new Runbook(kube, ns);
  const nodes = ['ctl-a', 'ctl-b', 'ctl-c'];
  const ports = [{ port: 443, protocol: 'TCP' as const }];
  const HOLDER = 'routedip.io/holder';
  const HOLDS = 'routedip.io/holds';
  const node = async (name: string): Promise<Json> => (await kube.get('Node', undefined, name))!;
  const holders = async () => {
    const out: string[] = [];
    for (const n of nodes) if ((await node(n)).metadata.labels?.[HOLDER] === 'true') out.push(n);
    return out;
  };

  t.before(async () => {
    await run.begin(nodes);
    await run.serve('ingress', ports, nodes);
    await run.apply(issuer(ns, 'memory', { routedIPReclaimPolicy: 'Delete', routedIPFirewallName: 'ingress-public', memory: { firewalls: ['ingress-public'] } }));
  });

  t.test('routedip-nodes: the holder Node is labelled and annotated; the marks follow a failover', async (t) => {
    await run.apply(routedIP(ns, 'held', { issuerRef: { name: 'memory' }, serviceRef: { name: 'ingress' } }));
    const rip = await run.ready('held');
    const holder = rip.status.node as string;
    const marked = await eventually(`Node ${holder} labelled ${HOLDER}`, async () => {
      const n = await node(holder);
      return n.metadata.labels?.[HOLDER] === 'true' ? n : undefined;
    });
    t.match(marked.metadata.annotations?.[HOLDS], `${ns}/held=${rip.status.address}`, `${HOLDS}: ${marked.metadata.annotations?.[HOLDS]}`);
    t.same(await holders(), [holder], 'only the holder is marked');
    t.match(kube.kubectl('get', 'nodes', '-l', HOLDER, '-o', 'name'), `node/${holder}`, 'kubectl get nodes -l routedip.io/holder lists it');

    await run.setNodeReady(holder, false);
    const after = await run.ready('held', (n) => n !== undefined && n !== holder);
    const moved = await eventually('the holder mark to move', async () => {
      const now = await holders();
      return now.length === 1 && now[0] === after.status.node ? now : undefined;
    });
    t.same(moved, [after.status.node], `the mark moved from ${holder} to ${after.status.node}`);
    t.notOk((await node(holder)).metadata.annotations?.[HOLDS], 'the old holder lost its annotation');
    await run.setNodeReady(holder, true);
  });

  t.test('routedip-issuers: the issuer status counts its RoutedIPs, stored whole, shown by kubectl', async (t) => {
    const crd = await kube.call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/routedipissuers.routedip.io');
    t.same(prunedPaths(RoutedIPIssuerStatusSchema, crdStatusSchema(crd.body)), [], 'the installed CRD prunes no field the service returns');
    const ready = await eventually('issuer memory Ready with 1 RoutedIP', async () => {
      const i = await kube.get('RoutedIPIssuer', ns, 'memory');
      return condition(i, 'Ready')?.status === 'True' && i?.status?.routedIPs === 1 ? i : undefined;
    });
    t.same(schemaErrors(RoutedIPIssuerStatusSchema, ready.status), [], 'the stored status conforms to RoutedIPIssuerStatusSchema');
    t.equal(ready.status.provider, 'memory');
    t.equal(ready.status.observedGeneration, ready.metadata.generation);
    const [header, row] = kube.kubectl('-n', ns, 'get', 'routedipissuer', 'memory').trim().split('\n');
    t.match(header, /^NAME\s+PROVIDER\s+READY\s+ROUTEDIPS\b/);
    t.match(row, /^memory\s+memory\s+True\s+1\b/);
  });

  t.test('routedip-services: an annotated Service gets a RoutedIP and its address; unannotated, the RoutedIP goes', async (t) => {
    const annotated = (annotations: Record<string, string>) => ({ ...service(ns, 'web', ports), metadata: { name: 'web', namespace: ns, annotations } });
    await run.serve('web', ports, nodes);
    await run.apply(annotated({ 'routedip.io/issuer': 'memory', 'routedip.io/node-selector': `${SCENARIO_LABEL}=${ns}` }));
    const rip = await run.ready('web');
    t.equal(rip.metadata.labels?.['routedip.io/managed-by'], 'service');
    t.same(rip.spec.serviceRef, { name: 'web' });
    t.same(rip.metadata.ownerReferences?.map((o: Json) => `${o.kind}/${o.name}`), ['Service/web'], 'owned by the Service');
    const svc = await eventually('the address written back on the Service', async () => {
      const s = await kube.get('Service', ns, 'web');
      return s?.metadata.annotations?.['routedip.io/address'] === rip.status.address ? s : undefined;
    });
    t.notOk(svc.metadata.annotations?.['routedip.io/problem'], 'no problem reported');

    await kube.patch('Service', ns, 'web', { metadata: { annotations: { 'routedip.io/issuer': null } } });
    await eventually('the managed RoutedIP to be gone', async () => ((await run.routedIP('web')) ? undefined : true));
    const released = await eventually('the Service released by routedip-services', async () => {
      const s = await kube.get('Service', ns, 'web');
      return (s?.metadata.finalizers ?? []).includes('metacontroller.io/decoratorcontroller-routedip-services') ? undefined : s;
    });
    t.notOk(released.metadata.annotations?.['routedip.io/address'], 'the address annotation was removed');
    await run.deleteAndWait('Service', 'web');
  });

  t.test('routedip-secrets: a labelled Secret gets the finalizer; unused, it is deleted at once', async (t) => {
    await run.apply(secret(ns, 'spare', { token: 'unused' }));
    const held = await eventually('the routedip-secrets finalizer', async () => {
      const s = await kube.get('Secret', ns, 'spare');
      return (s?.metadata.finalizers ?? []).includes('metacontroller.io/decoratorcontroller-routedip-secrets') ? s : undefined;
    });
    t.ok(held, 'finalizer added');
    await run.deleteAndWait('Secret', 'spare');
  });

  t.test('routedip-issuers: a deleted issuer is held while a RoutedIP uses it, and goes after it', async (t) => {
    const finalizer = 'metacontroller.io/compositecontroller-routedip-issuers';
    t.ok((await kube.get('RoutedIPIssuer', ns, 'memory'))?.metadata.finalizers?.includes(finalizer), `the issuer carries ${finalizer}`);
    const finalizes = (await kube.hookCalls())['issuer/finalize'] ?? 0;
    await kube.delete('RoutedIPIssuer', ns, 'memory');
    await eventually('the issuer finalize hook', async () => (((await kube.hookCalls())['issuer/finalize'] ?? 0) > finalizes ? true : undefined));
    const deleting = await kube.get('RoutedIPIssuer', ns, 'memory');
    t.ok(deleting?.metadata.deletionTimestamp, 'still there, being deleted');
    t.equal(condition(await run.routedIP('held'), 'Ready')?.status, 'True', 'its RoutedIP is unaffected');
    await run.deleteAndWait('RoutedIP', 'held');
    await run.deleteAndWait('RoutedIPIssuer', 'memory');
    await eventually('no node marked once the RoutedIP is gone', async () => ((await holders()).length === 0 ? true : undefined));
    t.pass('no node is marked once the RoutedIP is gone');
  });
}
