/**
 * Deleting a namespace (kube-controller-manager's namespace controller) that holds a RoutedIP
 * with reclaim policy Delete, its RoutedIPIssuer and its token Secret, on the fake DigitalOcean
 * API. The namespace controller deletes everything at once; the issuer and the Secret are held by
 * their controllers' finalizers until the RoutedIP's finalize has used them to clean the cloud.
 * The cloud must end as it began: no Reserved IP left, the firewall back to its foreign content.
 */
import t from 'tap';
import { startDigitalOceanAccount, type DigitalOceanAccount } from '../digitalocean-account.js';
import { connect, eventually } from '../kube.js';
import { issuer, routedIP, secret } from '../objects.js';
import { Runbook } from '../runbook.js';

const kube = connect(t);
if (kube) {
  const ns = 'e2e-namespace';
  const run = new Runbook(kube, ns);
  const droplets: Record<string, number> = { 'ns-a': 501, 'ns-b': 502 };
  const token = 'do-namespace-token';
  let account: DigitalOceanAccount;

  t.before(async () => {
    account = await startDigitalOceanAccount(token, droplets, 599);
    await run.begin(Object.keys(droplets), (n) => `digitalocean://${droplets[n]}`, { 'topology.kubernetes.io/region': 'nyc3' });
    await run.serve('ingress-nginx', [{ port: 443, protocol: 'TCP' }], Object.keys(droplets));
    await run.apply(secret(ns, 'do-api', { token }));
    await run.apply(issuer(ns, 'do', { routedIPReclaimPolicy: 'Delete', routedIPFirewallName: 'ingress-public', digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api', key: 'token' }, endpoint: account.fake.endpoint } }));
  });
  t.teardown(() => account?.fake.close());

  t.test('kube-controller-manager runs the namespace controller', async (t) => {
    t.ok(kube.info.kubeControllers.includes('namespace-controller'), kube.info.kubeControllers.join(', '));
  });

  t.test('the namespace is deleted: finalizers honoured, the cloud ends clean', async (t) => {
    await run.apply(routedIP(ns, 'public', { issuerRef: { name: 'do' }, serviceRef: { name: 'ingress-nginx' } }));
    const rip = await run.ready('public');
    t.equal(account.holderDroplet(rip.status.address), droplets[rip.status.node], 'assigned on its droplet');
    t.same(account.inbound(), ['tcp/22', 'tcp/443'], 'the firewall opened tcp/443');
    const before = await kube.hookCalls();

    const started = Date.now();
    await kube.delete('Namespace', undefined, ns);
    await eventually(`namespace ${ns} to be gone`, async () => ((await kube.get('Namespace', undefined, ns)) ? undefined : true), 240_000, 500);
    t.comment(`namespace deletion took ${Date.now() - started} ms`);

    const after = await kube.hookCalls();
    for (const hook of ['finalize', 'issuer/finalize', 'secret/finalize']) {
      t.ok((after[hook] ?? 0) > (before[hook] ?? 0), `${hook} was called (${before[hook] ?? 0} → ${after[hook] ?? 0})`);
    }
    t.same([...account.fake.model.reservedIPs.keys()], [], 'no Reserved IP left in the account');
    t.same(account.firewall().dropletIds, [599], 'only the foreign droplet is left in the firewall');
    t.same(account.inbound(), ['tcp/22'], 'only the foreign rule is left');
  });
}
