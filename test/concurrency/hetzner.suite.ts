/**
 * The seeded concurrency suite on the Hetzner Cloud fake (see harness.ts and
 * docs/concurrency.md): the production hetzner issuer factory (5 s request timeout, the
 * per-project rate budget, no retries) through the real undici client against a fresh fake
 * project per scenario, every request and answer checked against the API description when
 * ../shared is there. Faults are injected on the wire: a 500, or a lost response (the fake
 * applies the write, then destroys the socket).
 */
import t from 'tap';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { node, secret, withLabels, withProviderID } from '../fixtures/k8s.js';
import { FakeHetzner, SPEC_ABSENT } from '../fakes/hetzner/server.js';
import { clock, OTHER_CLUSTER_MARK, runSuite, type CloudUnderTest, type Dice } from './harness.js';
import { loopbackAccount } from './loopback.js';

const FIREWALL = 'ingress-public';
/** Hetzner Cloud's rate window: 3,600 requests an hour. */
const WINDOW_SECONDS = 3600;
const BASTION = 150;
/** Rules someone else put on the shared Firewall (kept byte for byte by every write). */
const FOREIGN_RULES = [
  { description: 'ssh from the office', direction: 'in', port: '22', protocol: 'tcp', source_ips: ['10.0.0.0/8'], destination_ips: [] },
  { description: 'web team', direction: 'in', port: '443', protocol: 'tcp', source_ips: ['192.0.2.0/24'], destination_ips: [] },
  { description: 'egress dns', direction: 'out', port: '53', protocol: 'udp', source_ips: [], destination_ips: ['0.0.0.0/0'] },
  { description: OTHER_CLUSTER_MARK, direction: 'in', port: '443', protocol: 'tcp', source_ips: ['0.0.0.0/0'], destination_ips: [] },
];
/** Every write the issuer sends (operationIds of the API description). */
const WRITES = ['create_floating_ip', 'delete_floating_ip', 'assign_floating_ip_to_server', 'unassign_floating_ip', 'set_rules', 'apply_to_resources', 'remove_from_resources'];

if (SPEC_ABSENT !== undefined) t.comment(`Hetzner API description validation skipped: ${SPEC_ABSENT}`);

async function hetznerCloud(dice: Dice, index: number): Promise<CloudUnderTest> {
  const fake = await new FakeHetzner().start();
  // A token of its own per scenario: its rate budget and cached reads never carry over.
  const token = `hcloud-token-${index}`;
  const ids = [101, 102, 103, 104].slice(0, dice.chance(0.5) ? 4 : 3);
  for (const id of ids) fake.model.addServer(id, 'fsn1', `node-${id}`);
  fake.model.addServer(BASTION, 'fsn1', 'bastion');
  const nodes = ids.map((id) => node(`n${id - 100}`, withProviderID(`hcloud://${id}`), withLabels({ 'topology.kubernetes.io/region': 'fsn1' })));
  let foreignIPs: Array<{ ip: string; server: number | null; labels: string }> = [];
  const firewall = () => fake.model.firewallByName(FIREWALL);
  const applied = () => (firewall()?.appliedTo ?? []).flatMap((a) => (a.type === 'server' ? [a.server.id] : []));
  return {
    nodes,
    secrets: [secret('hcloud-api', { token })],
    issuerSpec: () => ({ routedIPReclaimPolicy: 'Delete', routedIPFirewallName: FIREWALL, hetzner: { location: 'fsn1', tokenSecretRef: { name: 'hcloud-api' }, endpoint: fake.endpoint } }),
    async seedForeign(d) {
      fake.model.addFirewall(FIREWALL, FOREIGN_RULES, [{ type: 'server', server: { id: BASTION } }]);
      // Someone else's Floating IPs: unassigned, on the bastion, or on a cluster server.
      for (let i = d.int(1, 2); i > 0; i--) fake.model.addFloatingIP('fsn1', { server: d.pick([null, BASTION, ...ids]), labels: { team: 'web' } });
      foreignIPs = [...fake.model.floatingIPs.values()].map((f) => ({ ip: f.ip, server: f.server, labels: JSON.stringify(f.labels) }));
    },
    async foreignViolations() {
      const out: string[] = [];
      for (const f of foreignIPs) {
        const now = fake.model.floatingIPByAddress(f.ip);
        if (!now) out.push(`foreign Floating IP ${f.ip} deleted`);
        else if (now.server !== f.server) out.push(`foreign Floating IP ${f.ip} moved from ${f.server ?? 'nowhere'} to ${now.server ?? 'nowhere'}`);
        else if (JSON.stringify(now.labels) !== f.labels) out.push(`foreign Floating IP ${f.ip} relabelled ${JSON.stringify(now.labels)}`);
      }
      const rules = (firewall()?.rules ?? []).map((r) => JSON.stringify(r));
      for (const rule of FOREIGN_RULES) if (!rules.includes(JSON.stringify(rule))) out.push(`foreign rule ${rule.direction} ${rule.protocol}/${rule.port} changed or removed`);
      if (!applied().includes(BASTION)) out.push(`foreign server ${BASTION} (bastion) removed from the Firewall`);
      out.push(...fake.violations.map((v) => `Hetzner API description violation: ${v}`));
      return out;
    },
    async ourAddresses() {
      return [...fake.model.floatingIPs.values()]
        .filter((f) => !foreignIPs.some((x) => x.ip === f.ip))
        .map((f) => ({ address: f.ip, ...(f.labels['routedip.io/uid'] !== undefined ? { uid: f.labels['routedip.io/uid'] } : {}) }));
    },
    async ourFirewallEntries() {
      const foreign = FOREIGN_RULES.map((r) => JSON.stringify(r));
      const rules = (firewall()?.rules ?? []).filter((r) => !foreign.includes(JSON.stringify(r)));
      return [...rules.map((r) => `rule ${JSON.stringify(r)}`), ...applied().filter((id) => id !== BASTION).map((id) => `member server ${id}`)];
    },
    ...loopbackAccount(fake, token, WRITES, WINDOW_SECONDS),
  };
}

runSuite(t, {
  name: 'hetzner',
  provider: 'hetzner',
  // The production factory options (5 s per request, reserve 20 of the hourly budget).
  registry: createIssuerRegistry({ memoryProvider: false, hetzner: { now: () => clock.now } }),
  scenarios: 200,
  cloud: hetznerCloud,
});
