/**
 * The seeded concurrency suite on the memory cloud (see harness.ts and docs/concurrency.md):
 * the in-process cloud with its own fault injection (a failure, or a lost response: the change
 * is made, the caller sees an error).
 */
import t from 'tap';
import { IssuerUnavailableError } from '../../src/issuers/errors.js';
import { MemoryCloud, UID_TAG } from '../../src/issuers/memory/cloud.js';
import { WRITE_METHODS, type MemoryMethod } from '../../src/issuers/memory/calls.js';
import { createMemoryIssuer } from '../../src/issuers/memory/issuer.js';
import { node } from '../fixtures/k8s.js';
import { runSuite, type CloudUnderTest } from './harness.js';

const ACCOUNT = 'ingress/cloud';
const FIREWALL = 'ingress-public';
const FOREIGN_RULES = [
  { protocol: 'tcp' as const, port: 22, sources: ['10.0.0.0/8'] },
  { protocol: 'tcp' as const, port: 443, sources: ['192.0.2.0/24'] },
];

let current = new MemoryCloud();

function memoryCloud(cloud: MemoryCloud, nodeCount: number): CloudUnderTest {
  let foreignIPs: Array<{ address: string; holder?: string }> = [];
  const nodes = ['n1', 'n2', 'n3', 'n4'].slice(0, nodeCount).map((n) => node(n));
  const writeMethods = [...WRITE_METHODS] as MemoryMethod[];
  return {
    nodes,
    secrets: [],
    issuerSpec: () => ({ routedIPReclaimPolicy: 'Delete', routedIPFirewallName: FIREWALL, memory: { firewalls: [FIREWALL] } }),
    async seedForeign(dice) {
      cloud.seedFirewall(ACCOUNT, FIREWALL, { rules: FOREIGN_RULES, nodes: ['bastion'] });
      for (let i = dice.int(1, 2); i > 0; i--) {
        const holder = dice.chance(0.5) ? dice.pick([...nodes.map((n) => n.metadata.name), 'bastion']) : undefined;
        cloud.seedAddress(ACCOUNT, holder !== undefined ? { holder } : {});
      }
      foreignIPs = cloud.snapshot(ACCOUNT).ips.map((ip) => ({ address: ip.address, ...(ip.holder !== undefined ? { holder: ip.holder } : {}) }));
    },
    async foreignViolations() {
      const snap = cloud.snapshot(ACCOUNT);
      const out: string[] = [];
      for (const f of foreignIPs) {
        const now = snap.ips.find((ip) => ip.address === f.address);
        if (!now) out.push(`foreign address ${f.address} released`);
        else if (now.holder !== f.holder) out.push(`foreign address ${f.address} moved from ${f.holder ?? 'nowhere'} to ${now.holder ?? 'nowhere'}`);
        else if (Object.keys(now.tags).length > 0) out.push(`foreign address ${f.address} tagged ${JSON.stringify(now.tags)}`);
      }
      const fw = snap.firewalls.find((x) => x.name === FIREWALL);
      for (const rule of FOREIGN_RULES) {
        const present = fw?.rules.some((r) => r.protocol === rule.protocol && r.port === rule.port && rule.sources.every((s) => r.sources.includes(s)));
        if (!present) out.push(`foreign rule ${rule.protocol}/${rule.port} from ${rule.sources.join(',')} removed`);
      }
      if (!fw?.nodes.includes('bastion')) out.push('foreign firewall member bastion removed');
      return out;
    },
    async ourAddresses() {
      return cloud
        .snapshot(ACCOUNT)
        .ips.filter((ip) => !foreignIPs.some((f) => f.address === ip.address))
        .map((ip) => ({ address: ip.address, ...(ip.tags[UID_TAG] !== undefined ? { uid: ip.tags[UID_TAG] } : {}) }));
    },
    async ourFirewallEntries() {
      const fw = cloud.snapshot(ACCOUNT).firewalls.find((x) => x.name === FIREWALL);
      const rules = (fw?.rules ?? []).filter((r) => !FOREIGN_RULES.some((f) => f.protocol === r.protocol && f.port === r.port && f.sources.join() === r.sources.join()));
      return [...rules.map((r) => `rule ${r.protocol}/${r.port} from ${r.sources.join(',')}`), ...(fw?.nodes ?? []).filter((n) => n !== 'bastion').map((n) => `member ${n}`)];
    },
    injectFault(dice) {
      const lost = dice.chance(0.5);
      cloud.failNext(dice.pick(writeMethods), new IssuerUnavailableError('injected: the cloud failed', 'CloudUnavailable'), { afterEffect: lost });
      return lost ? 'lost' : 'failure';
    },
    clearFaults: () => cloud.clearFaults(),
  };
}

runSuite(t, {
  name: 'memory',
  provider: 'memory',
  registry: { memory: (context) => createMemoryIssuer(current, context) },
  scenarios: 500,
  async cloud(dice) {
    current = new MemoryCloud();
    return memoryCloud(current, dice.chance(0.5) ? 4 : 3);
  },
});
