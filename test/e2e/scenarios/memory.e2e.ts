/**
 * The main job on the built-in simulated cloud, driven by real Metacontroller through a real
 * API server: a RoutedIP becomes Ready, `kubectl get rip` shows it, the IP follows a Node that
 * goes NotReady and an endpoint that stops being ready, the firewall follows a port change, the
 * service stays quiet when nothing changes, and a Delete finalize lets the object go.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readDocs, repoRoot } from '../../manifests/k8s-schema.js';
import { isController } from '../harness/manifests.js';
import { connect, type Json } from '../kube.js';
import { crdStatusSchema, hasFirewallPorts, portKeys, prunedPaths, schemaErrors } from '../shape.js';
import { RoutedIPStatusSchema } from '../../../src/schemas/routed-ip.js';
import { condition, issuer, routedIP } from '../objects.js';
import { Runbook } from '../runbook.js';

const kube = connect(t);
if (kube) {
  const ns = 'e2e-memory';
  const run = new Runbook(kube, ns);
  const nodes = ['memory-a', 'memory-b', 'memory-c'];
  const ports = [{ port: 80, protocol: 'TCP' as const }, { port: 443, protocol: 'TCP' as const }];

  t.before(async () => {
    await run.begin(nodes);
    await run.serve('ingress-nginx', ports, nodes);
    await run.apply(issuer(ns, 'memory', { routedIPReclaimPolicy: 'Delete', routedIPFirewallName: 'ingress-public', memory: { firewalls: ['ingress-public'] } }));
  });

  t.test('every controller in metacontroller/ is installed with its hooks on the service', async (t) => {
    // What `kubectl apply -k manifests` installed must be every controller config shipped.
    const dir = path.join(repoRoot, 'metacontroller');
    const shipped = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
      .flatMap((f) => readDocs(path.join(dir, f))).filter(isController).map((d) => `${d.kind}/${d.metadata.name}`);
    t.ok(shipped.includes('CompositeController/routedip'));
    t.same([...kube.info.controllers].sort(), shipped.sort(), kube.info.controllers.join(', '));
    for (const name of kube.info.controllers) {
      const [kind, n] = name.split('/') as [string, string];
      const c = await kube.get(kind, undefined, n);
      const urls = Object.values(c.spec.hooks as Record<string, { webhook: { url: string } }>).map((h) => h.webhook.url);
      t.ok(urls.length > 0 && urls.every((u) => u.startsWith(kube.info.serviceUrl)), `${name}: ${urls.join(', ')}`);
    }
  });

  t.test('a new RoutedIP gets an address on a node, with the firewall open first', async (t) => {
    await run.apply(routedIP(ns, 'public', { issuerRef: { name: 'memory' }, serviceRef: { name: 'ingress-nginx' } }));
    const rip = await run.ready('public');
    t.match(rip.status.address, /^203\.0\.113\.\d+$/);
    t.ok(nodes.includes(rip.status.node), `held by ${rip.status.node}`);
    t.equal(rip.status.electedNode, rip.status.node);
    t.same(rip.status.firewall.ports, [{ protocol: 'tcp', port: 80 }, { protocol: 'tcp', port: 443 }]);
    t.same(rip.status.firewall.nodes, [rip.status.node]);
    for (const type of ['Ready', 'IPAllocated', 'Assigned', 'FirewallReady', 'IssuerReady']) {
      t.equal(condition(rip, type)?.status, 'True', `${type} is True`);
    }
    t.ok(rip.metadata.finalizers.includes('metacontroller.io/compositecontroller-routedip'), 'Metacontroller added its finalizer');
  });

  t.test('the status the service returns is stored whole: nothing pruned, observedGeneration set', async (t) => {
    // The shape comes from the TypeBox schemas the service answers with (and the CRDs are
    // generated from): the installed CRD must declare every field of it, and the stored status
    // must conform to it — required fields there, nothing unknown, every nested object whole.
    const crd = await kube.call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/routedips.routedip.io');
    t.same(prunedPaths(RoutedIPStatusSchema, crdStatusSchema(crd.body)), [], 'the installed CRD prunes no field the service returns');
    const rip = await run.routedIP('public');
    t.same(schemaErrors(RoutedIPStatusSchema, rip.status), [], 'the stored status conforms to RoutedIPStatusSchema');
    for (const key of ['address', 'node', 'electedNode', 'provider', 'firewall'] as const) t.ok(rip.status[key] !== undefined, `a Ready RoutedIP has status.${key}`);
    t.equal(rip.status.observedGeneration, rip.metadata.generation);
    t.ok(rip.status.steps.length >= 8, 'every step is reported');
  });

  t.test('kubectl get rip shows ADDRESS, NODE, READY and AGE', async (t) => {
    const rip = await run.routedIP('public');
    const [header, row] = kube.kubectl('-n', ns, 'get', 'rip').trim().split('\n');
    t.match(header, /^NAME\s+ADDRESS\s+NODE\s+READY\s+.*AGE$/);
    t.match(row, new RegExp(`^public\\s+${rip.status.address.replace(/\./g, '\\.')}\\s+${rip.status.node}\\s+True\\s`));
  });

  t.test('hooks without the bearer token are refused; Metacontroller sends it', async (t) => {
    const res = await fetch(`${kube.info.serviceUrl}/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    t.equal(res.status, 401, 'no token: 401');
    const calls = await kube.hookCalls();
    t.ok((calls.sync ?? 0) > 0 && (calls.customize ?? 0) > 0, `Metacontroller's calls were accepted: ${JSON.stringify(calls)}`);
  });

  t.test('the holder Node goes NotReady: the IP moves to another node', async (t) => {
    const before = await run.routedIP('public');
    const holder = before.status.node as string;
    const started = Date.now();
    await run.setNodeReady(holder, false);
    const after = await run.ready('public', (n) => n !== undefined && n !== holder);
    t.comment(`failover (memory issuer, Node NotReady → status shows the new holder): ${Date.now() - started} ms`);
    t.equal(after.status.address, before.status.address, 'same address');
    t.not(after.status.node, holder);
    await run.setNodeReady(holder, true);
  });

  t.test('the ingress endpoint on the holder stops being ready: the IP moves', async (t) => {
    const before = await run.routedIP('public');
    const holder = before.status.node as string;
    await run.setEndpointReady('ingress-nginx', holder, false);
    const after = await run.ready('public', (n) => n !== undefined && n !== holder);
    t.equal(after.status.address, before.status.address);
    t.not(after.status.node, holder);
    await run.setEndpointReady('ingress-nginx', holder, true);
  });

  t.test('the Service now serves tcp/443 and udp/443: the firewall follows', async (t) => {
    await run.changePorts('ingress-nginx', [{ port: 443, protocol: 'TCP' }, { port: 443, protocol: 'UDP' }]);
    const wanted = [{ protocol: 'tcp', port: 443 }, { protocol: 'udp', port: 443 }] as const;
    const rip = await run.until('public', 'firewall ports tcp/443 udp/443', (r) => hasFirewallPorts(r, wanted) && condition(r, 'Ready')?.status === 'True');
    t.same(portKeys(rip.status.firewall.addedPorts), ['tcp/443', 'udp/443'], 'tcp/80 was closed again');
  });

  t.test('nothing changes: no controller calls the service in a loop', async (t) => {
    // Let the last change settle, then count every hook's calls over an idle window.
    await new Promise((r) => setTimeout(r, 3000));
    const before = await kube.hookCalls();
    const window = 20_000;
    await new Promise((r) => setTimeout(r, window));
    const after = await kube.hookCalls();
    const delta = Object.fromEntries(Object.keys(after).map((h) => [h, (after[h] ?? 0) - (before[h] ?? 0)]));
    // What each controller syncs, cluster-wide (earlier scenario files leave objects behind).
    const items = async (path: string) => (await kube.call('GET', path)).body.items as Json[];
    const parents: Record<string, number> = {
      '': (await items('/apis/routedip.io/v1alpha1/routedips')).length,
      issuer: (await items('/apis/routedip.io/v1alpha1/routedipissuers')).length,
      node: (await items('/api/v1/nodes')).length,
      secret: (await items('/api/v1/secrets?labelSelector=routedip.io%2Fissuer')).length,
      service: (await items('/api/v1/services')).filter((s) => s.metadata.annotations?.['routedip.io/issuer'] !== undefined).length,
    };
    t.comment(`IDLE: hook calls during a ${window / 1000} s idle window: ${JSON.stringify(delta)}; objects per controller: ${JSON.stringify(parents)}`);
    // Each object may see one periodic resync or hold re-check in the window, plus one of slack.
    // A hot loop is many calls per second.
    t.ok(Object.keys(delta).length >= 10, 'every hook of every controller is counted');
    for (const [hook, n] of Object.entries(delta)) {
      const controller = hook.includes('/') ? hook.split('/')[0]! : '';
      const bound = 2 * (parents[controller] ?? 0) + 1;
      t.ok(n <= bound, `${hook}: ${n} calls (at most ${bound})`);
    }
  });

  t.test('kubectl delete with reclaim policy Delete: the finalizer is removed and the RoutedIP is gone', async (t) => {
    await run.deleteAndWait('RoutedIP', 'public');
    const calls = await kube.hookCalls();
    t.ok((calls.finalize ?? 0) > 0, `finalize was called: ${calls.finalize}`);
  });
}
