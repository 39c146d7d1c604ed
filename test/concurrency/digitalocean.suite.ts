/**
 * The seeded concurrency suite on the DigitalOcean fake (see harness.ts and docs/concurrency.md):
 * the production digitalocean issuer factory (5 s request timeout, the per-token rate budget, no
 * retries) through the real dots-wrapper/axios client against a fresh fake account per scenario,
 * every request and answer checked against DigitalOcean's OpenAPI description when ../shared is
 * there. Faults are injected on the wire: a 500, or a lost response (the fake applies the write,
 * then destroys the socket).
 */
import t from 'tap';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { node, secret, withProviderID } from '../fixtures/k8s.js';
import { sameRule } from '../fakes/digitalocean/model.js';
import type { FakeRule } from '../fakes/digitalocean/objects.js';
import { FakeDigitalOcean, SPEC_ABSENT } from '../fakes/digitalocean/server.js';
import { clock, runSuite, type CloudUnderTest, type Dice } from './harness.js';
import { loopbackAccount } from './loopback.js';

const FIREWALL = 'ingress-public';
/** DigitalOcean's rate window: 250 requests a minute. */
const WINDOW_SECONDS = 60;
const BASTION = 150;
const FOREIGN_RULES: FakeRule[] = [
  { protocol: 'tcp', ports: '22', sources: { addresses: ['10.0.0.0/8'] } },
  { protocol: 'tcp', ports: '443', sources: { addresses: ['192.0.2.0/24'] } },
];
/** Every write the issuer sends (spec operationIds). */
const WRITES = ['reservedIPs_create', 'reservedIPs_delete', 'reservedIPsActions_post', 'firewalls_assign_droplets', 'firewalls_delete_droplets', 'firewalls_add_rules', 'firewalls_delete_rules'];
/** The writes of tag membership (`firewallTag`), which half of the scenarios use. */
const TAG_WRITES = ['tags_create', 'tags_assign_resources', 'tags_unassign_resources', 'firewalls_add_tags'];
/** The issuer's membership tag in tag scenarios; the bastion carries another tag of someone else's. */
const TAG = 'routedip:suite';
const FOREIGN_TAG = 'bastion';

if (SPEC_ABSENT !== undefined) t.comment(`DigitalOcean spec validation skipped: ${SPEC_ABSENT}`);

async function digitalOceanCloud(dice: Dice, index: number): Promise<CloudUnderTest> {
  // An account with room for every RoutedIP and the foreign IPs (DigitalOcean raises the default 3 on request).
  const fake = await new FakeDigitalOcean({ reservedIPLimit: 20 }).start();
  // A token of its own per scenario: its rate budget never carries over from another account.
  const token = `do-token-${index}`;
  // DigitalOcean allows one reserved IP per droplet: room for 5 RoutedIPs and a foreign IP on a cluster droplet.
  const ids = [101, 102, 103, 104, 105, 106, 107].slice(0, dice.chance(0.5) ? 6 : 7);
  for (const id of ids) fake.model.addDroplet(id, 'nyc3');
  fake.model.addDroplet(BASTION, 'nyc3', 'bastion');
  const nodes = ids.map((id) => node(`n${id - 100}`, withProviderID(`digitalocean://${id}`)));
  // Tag membership (a shared mark: every RoutedIP of the issuer tags its holder) or droplet ids.
  const byTag = dice.chance(0.5);
  fake.model.droplets.get(BASTION)!.tags.push(FOREIGN_TAG);
  let foreignIPs: Array<{ ip: string; dropletId: number | null }> = [];
  const firewall = () => fake.model.firewallByName(FIREWALL);
  return {
    nodes,
    secrets: [secret('do-api', { token })],
    issuerSpec: () => ({ routedIPReclaimPolicy: 'Delete', routedIPFirewallName: FIREWALL, digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api' }, endpoint: fake.endpoint, ...(byTag ? { firewallTag: TAG } : {}) } }),
    async seedForeign(d) {
      fake.model.addFirewall(FIREWALL, { dropletIds: [BASTION], inbound: FOREIGN_RULES, tags: [FOREIGN_TAG] });
      // Someone else's reserved IPs: unassigned, on the bastion, or on (at most one) cluster droplet.
      const holders = [null, BASTION, ...ids];
      let onCluster = false;
      for (let i = d.int(1, 2); i > 0; i--) {
        const holder = d.pick(holders);
        if (holder !== null && (fake.model.ipOfDroplet(holder) || (holder !== BASTION && onCluster))) continue;
        onCluster ||= holder !== null && holder !== BASTION;
        fake.model.addReservedIP('nyc3', holder);
      }
      foreignIPs = [...fake.model.reservedIPs.values()].map((r) => ({ ip: r.ip, dropletId: r.dropletId }));
    },
    async foreignViolations() {
      const out: string[] = [];
      for (const f of foreignIPs) {
        const now = fake.model.reservedIPs.get(f.ip);
        if (!now) out.push(`foreign reserved IP ${f.ip} deleted`);
        else if (now.dropletId !== f.dropletId) out.push(`foreign reserved IP ${f.ip} moved from ${f.dropletId ?? 'nowhere'} to ${now.dropletId ?? 'nowhere'}`);
      }
      const fw = firewall();
      for (const rule of FOREIGN_RULES) if (!fw?.inbound.some((r) => sameRule(r, rule))) out.push(`foreign rule ${rule.protocol}/${rule.ports} removed`);
      if (!fw?.dropletIds.includes(BASTION)) out.push(`foreign firewall member ${BASTION} (bastion) removed`);
      if (!fw?.tags.includes(FOREIGN_TAG)) out.push(`foreign firewall tag ${FOREIGN_TAG} removed`);
      if (!fake.model.droplets.get(BASTION)?.tags.includes(FOREIGN_TAG)) out.push(`foreign tag ${FOREIGN_TAG} removed from the bastion`);
      if (fake.model.droplets.get(BASTION)?.tags.includes(TAG)) out.push(`the bastion was tagged ${TAG}`);
      // Every request our issuer sent, and every answer, must conform to the spec.
      out.push(...fake.violations.map((v) => `DigitalOcean spec violation: ${v}`));
      return out;
    },
    async ourAddresses() {
      return [...fake.model.reservedIPs.values()].filter((r) => !foreignIPs.some((f) => f.ip === r.ip)).map((r) => ({ address: r.ip }));
    },
    async ourFirewallEntries() {
      const fw = firewall();
      const rules = (fw?.inbound ?? []).filter((r) => !FOREIGN_RULES.some((f) => sameRule(f, r)));
      const tagged = [...fake.model.droplets.values()].filter((d) => d.tags.includes(TAG)).map((d) => `droplet ${d.id} tagged ${TAG}`);
      return [...rules.map((r) => `rule ${r.protocol}/${r.ports} from ${JSON.stringify(r.sources)}`), ...(fw?.dropletIds ?? []).filter((id) => id !== BASTION).map((id) => `member droplet ${id}`), ...tagged];
    },
    ...loopbackAccount(fake, token, byTag ? [...WRITES, ...TAG_WRITES] : WRITES, WINDOW_SECONDS),
  };
}

runSuite(t, {
  name: 'digitalocean',
  provider: 'digitalocean',
  // The production factory options (DIGITALOCEAN defaults: 5 s per request, reserve 10 of the budget).
  registry: createIssuerRegistry({ memoryProvider: false, digitalocean: { now: () => clock.now } }),
  scenarios: 200,
  cloud: digitalOceanCloud,
});
