/**
 * The DigitalOcean issuer, driven by real Metacontroller, against the local fake DigitalOcean
 * API (spec-validated when ../shared is there). The account already has a firewall with a
 * foreign rule and a foreign droplet; the scenarios never touch those.
 * Prints the failover figure: from the Node condition change to the assign call at the cloud.
 */
import t from 'tap';
import { SPEC_ABSENT, type FakeDigitalOcean } from '../../fakes/digitalocean/server.js';
import { startDigitalOceanAccount, type DigitalOceanAccount } from '../digitalocean-account.js';
import { connect, eventually } from '../kube.js';
import { condition, issuer, routedIP, secret } from '../objects.js';
import { Runbook } from '../runbook.js';

const kube = connect(t);
if (kube) {
  const ns = 'e2e-digitalocean';
  const run = new Runbook(kube, ns);
  const droplets: Record<string, number> = { 'do-a': 301, 'do-b': 302, 'do-c': 303 };
  const nodes = Object.keys(droplets);
  const BASTION = 399;
  const token = 'do-e2e-token';
  const SECRETS_FINALIZER = 'metacontroller.io/decoratorcontroller-routedip-secrets';
  let account: DigitalOceanAccount;
  let fake: FakeDigitalOcean;
  const dropletOf = (node: string) => droplets[node];
  const holderDroplet = (ip: string) => account.holderDroplet(ip);
  const firewall = () => account.firewall();
  const doIssuer = (name: string, policy: 'Retain' | 'Delete') =>
    issuer(ns, name, { routedIPReclaimPolicy: policy, routedIPFirewallName: 'ingress-public', digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api', key: 'token' }, endpoint: fake.endpoint } });

  t.before(async () => {
    account = await startDigitalOceanAccount(token, droplets, BASTION);
    fake = account.fake;
    await run.begin(nodes, (n) => `digitalocean://${droplets[n]}`, { 'topology.kubernetes.io/region': 'nyc3' });
    await run.serve('ingress-nginx', [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }], nodes);
    await run.apply(secret(ns, 'do-api', { token }));
    await run.apply(doIssuer('do', 'Delete'));
  });
  t.teardown(() => fake.close());

  t.test('a new RoutedIP gets a Reserved IP on its droplet, the firewall open for it', async (t) => {
    await run.apply(routedIP(ns, 'public', { issuerRef: { name: 'do' }, serviceRef: { name: 'ingress-nginx' } }));
    const rip = await run.ready('public');
    t.equal(holderDroplet(rip.status.address), dropletOf(rip.status.node), 'the cloud agrees with the status');
    t.same(firewall().dropletIds.sort(), [BASTION, dropletOf(rip.status.node)].sort(), 'holder added, bastion kept');
    t.same(firewall().inbound.map((r) => `${r.protocol}/${r.ports}`).sort(), ['tcp/22', 'tcp/443', 'tcp/80']);
  });

  t.test('the holder Node goes NotReady: the IP moves (failover time printed)', async (t) => {
    const before = await run.routedIP('public');
    const holder = before.status.node as string;
    const changed = Date.now();
    await run.setNodeReady(holder, false);
    const assign = await eventually('the assign call at the cloud', async () =>
      fake.calls.find((c) => c.at >= changed && c.operation === 'reservedIPsActions_post' && (c.body as { type?: string }).type === 'assign'), 60_000, 20);
    const after = await run.ready('public', (n) => n !== undefined && n !== holder);
    const ready = Date.now();
    t.comment(`FAILOVER (DigitalOcean fake): Node ${holder} NotReady → assign call at the cloud in ${assign.at - changed} ms; → RoutedIP Ready on ${after.status.node} in ${ready - changed} ms`);
    t.equal((assign.body as { droplet_id: number }).droplet_id, dropletOf(after.status.node));
    t.equal(holderDroplet(after.status.address), dropletOf(after.status.node));
    t.notOk(firewall().dropletIds.includes(dropletOf(holder)!), 'the old holder left the firewall after the move');
    await run.setNodeReady(holder, true);
  });

  t.test('a second RoutedIP shares the firewall; deleting it keeps what the first needs', async (t) => {
    await run.apply(routedIP(ns, 'second', { issuerRef: { name: 'do' }, serviceRef: { name: 'ingress-nginx' } }));
    const second = await run.ready('second');
    const first = await run.routedIP('public');
    t.not(second.status.address, first.status.address, 'its own address');
    t.ok(firewall().dropletIds.includes(dropletOf(second.status.node)!), 'its holder is in the firewall');
    await run.deleteAndWait('RoutedIP', 'second');
    t.notOk(fake.model.reservedIPs.has(second.status.address), 'Delete released its address');
    const rules = firewall().inbound.map((r) => `${r.protocol}/${r.ports}`).sort();
    t.same(rules, ['tcp/22', 'tcp/443', 'tcp/80'], 'the ports the first RoutedIP needs stay open');
    t.ok(firewall().dropletIds.includes(dropletOf(first.status.node)!), "the first RoutedIP's holder stays");
    t.ok(firewall().dropletIds.includes(BASTION), 'the foreign droplet stays');
    if (second.status.node !== first.status.node) {
      t.notOk(firewall().dropletIds.includes(dropletOf(second.status.node)!), "the second RoutedIP's holder left the firewall");
    }
    t.equal(condition(await run.routedIP('public'), 'Ready')?.status, 'True');
  });

  t.test('the token Secret is released (label removed) and deleted: the status says so; restored, it recovers', async (t) => {
    // Removing the label is the user's way to let a held Secret go (routedip-secrets finalize).
    await kube.patch('Secret', ns, 'do-api', { metadata: { labels: { 'routedip.io/issuer': null } } });
    await eventually('the Secret released by routedip-secrets', async () =>
      ((await kube.get('Secret', ns, 'do-api'))?.metadata.finalizers ?? []).includes(SECRETS_FINALIZER) ? undefined : true);
    await run.deleteAndWait('Secret', 'do-api');
    const broken = await run.until('public', 'IssuerReady=False', (r) => condition(r, 'IssuerReady')?.status === 'False');
    t.match(condition(broken, 'IssuerReady')?.message, /do-api/, String(condition(broken, 'IssuerReady')?.message));
    t.match(broken.status.address, /^\d+\.\d+\.\d+\.\d+$/, 'the address is carried forward');
    await run.apply(secret(ns, 'do-api', { token }));
    await run.ready('public');
  });

  t.test('adopting an existing Reserved IP, then Delete: unassigned, never released', async (t) => {
    const existing = fake.model.addReservedIP('nyc3', null);
    await run.apply(routedIP(ns, 'adopted', { issuerRef: { name: 'do' }, address: existing, serviceRef: { name: 'ingress-nginx' } }));
    const rip = await run.ready('adopted');
    t.equal(rip.status.address, existing);
    t.equal(holderDroplet(existing), dropletOf(rip.status.node));
    await run.deleteAndWait('RoutedIP', 'adopted');
    t.ok(fake.model.reservedIPs.has(existing), 'the adopted address still exists');
    t.equal(holderDroplet(existing), null, 'and is unassigned');
  });

  t.test('Delete on the last RoutedIP while its token Secret is being deleted: the Secret is held until the cloud is clean', async (t) => {
    const rip = await run.routedIP('public');
    const finalizes = (await kube.hookCalls())['secret/finalize'] ?? 0;
    await kube.delete('Secret', ns, 'do-api');
    await eventually('routedip-secrets to finalize the deleted Secret', async () => (((await kube.hookCalls())['secret/finalize'] ?? 0) > finalizes ? true : undefined));
    const held = await kube.get('Secret', ns, 'do-api');
    t.ok(held?.metadata.deletionTimestamp, 'the Secret is being deleted');
    t.ok(held?.metadata.finalizers?.includes(SECRETS_FINALIZER), `held by ${SECRETS_FINALIZER} while RoutedIP public needs it`);
    await run.deleteAndWait('RoutedIP', 'public');
    t.notOk(fake.model.reservedIPs.has(rip.status.address), 'released with the held token');
    t.same(firewall().dropletIds, [BASTION], 'only the foreign droplet is left');
    t.same(firewall().inbound.map((r) => `${r.protocol}/${r.ports}`), ['tcp/22'], 'only the foreign rule is left');
    await run.deleteAndWait('Secret', 'do-api');
    t.pass('the Secret went once no RoutedIP needed it');
  });

  t.test('Retain: the RoutedIP goes, its address and firewall entries stay', async (t) => {
    await run.apply(secret(ns, 'do-api', { token }));
    await run.apply(doIssuer('do-retain', 'Retain'));
    await run.apply(routedIP(ns, 'kept', { issuerRef: { name: 'do-retain' }, serviceRef: { name: 'ingress-nginx' } }));
    const rip = await run.ready('kept');
    await run.deleteAndWait('RoutedIP', 'kept');
    t.equal(holderDroplet(rip.status.address), dropletOf(rip.status.node), 'still assigned where it was');
    t.ok(firewall().dropletIds.includes(dropletOf(rip.status.node)!), 'its node stays in the firewall');
  });

  t.test('every request the issuer sent conforms to the DigitalOcean spec', { skip: SPEC_ABSENT ?? false }, async (t) => {
    t.same(fake.violations, []);
  });
}
