/**
 * routedip-clusterissuers, driven by real Metacontroller on the memory issuer: a
 * ClusterRoutedIPIssuer gets its status (provider, Ready, ROUTEDIPS counting the RoutedIPs that
 * name it), and a deleted one is held while a RoutedIP still needs it, then let go.
 */
import t from 'tap';
import { RoutedIPIssuerStatusSchema } from '../../../src/schemas/routed-ip.js';
import { connect, eventually } from '../kube.js';
import { condition, routedIP } from '../objects.js';
import { Runbook } from '../runbook.js';
import { crdStatusSchema, prunedPaths, schemaErrors } from '../shape.js';

const kube = connect(t);
if (kube) {
  const ns = 'e2e-clusterissuer';
  const name = 'e2e-shared';
  const run = new Runbook(kube, ns);
  const nodes = ['cis-a', 'cis-b'];
  const finalizer = 'metacontroller.io/compositecontroller-routedip-clusterissuers';
  const clusterIssuer = () => kube.get('ClusterRoutedIPIssuer', undefined, name);

  t.before(async () => {
    await run.begin(nodes);
    await run.serve('ingress', [{ port: 443, protocol: 'TCP' }], nodes);
    await kube.apply({
      apiVersion: 'routedip.io/v1alpha1',
      kind: 'ClusterRoutedIPIssuer',
      metadata: { name },
      spec: { routedIPReclaimPolicy: 'Delete', memory: {} },
    });
  });

  t.test('routedip-clusterissuers: status, ROUTEDIPS across namespaces, and the delete hold', async (t) => {
    await run.apply(routedIP(ns, 'shared-user', { issuerRef: { name, kind: 'ClusterRoutedIPIssuer' }, serviceRef: { name: 'ingress' } }));
    const rip = await run.ready('shared-user');
    t.ok(rip.status.address, `the RoutedIP got ${rip.status.address} through the ClusterRoutedIPIssuer`);

    const crd = await kube.call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterroutedipissuers.routedip.io');
    t.same(prunedPaths(RoutedIPIssuerStatusSchema, crdStatusSchema(crd.body)), [], 'the installed CRD prunes no field the service returns');
    const ready = await eventually(`ClusterRoutedIPIssuer ${name} Ready with 1 RoutedIP`, async () => {
      const i = await clusterIssuer();
      return condition(i, 'Ready')?.status === 'True' && i?.status?.routedIPs === 1 ? i : undefined;
    });
    t.same(schemaErrors(RoutedIPIssuerStatusSchema, ready.status), [], 'the stored status conforms to RoutedIPIssuerStatusSchema');
    t.equal(ready.status.provider, 'memory');
    t.ok(ready.metadata.finalizers?.includes(finalizer), `it carries ${finalizer}`);
    const [header, row] = kube.kubectl('get', 'clusterroutedipissuer', name).trim().split('\n');
    t.match(header, /^NAME\s+PROVIDER\s+READY\s+ROUTEDIPS\b/);
    t.match(row, new RegExp(`^${name}\\s+memory\\s+True\\s+1\\b`));

    const finalizes = (await kube.hookCalls())['clusterissuer/finalize'] ?? 0;
    await kube.delete('ClusterRoutedIPIssuer', undefined, name);
    await eventually('the cluster issuer finalize hook', async () => (((await kube.hookCalls())['clusterissuer/finalize'] ?? 0) > finalizes ? true : undefined));
    t.ok((await clusterIssuer())?.metadata.deletionTimestamp, 'held while its RoutedIP uses it');
    t.equal(condition(await run.routedIP('shared-user'), 'Ready')?.status, 'True', 'its RoutedIP is unaffected');

    await run.deleteAndWait('RoutedIP', 'shared-user');
    await eventually(`ClusterRoutedIPIssuer ${name} to be gone`, async () => ((await clusterIssuer()) ? undefined : true));
    t.pass('the ClusterRoutedIPIssuer goes once its last RoutedIP has finalized');
  });
}
