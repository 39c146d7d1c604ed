/**
 * The DigitalOcean account a scenario starts from, on the local fake DigitalOcean API: its
 * droplets (one per Node), a foreign droplet (a bastion) and a firewall `ingress-public` that
 * already holds the bastion and a foreign rule — things the operator must never touch.
 */
import { FakeDigitalOcean } from '../fakes/digitalocean/server.js';

/** The foreign rule already in the firewall. */
export const FOREIGN_RULE = { protocol: 'tcp', ports: '22', sources: { addresses: ['10.0.0.0/8'] } };

/** A started account and what scenarios read from it. */
export interface DigitalOceanAccount {
  readonly fake: FakeDigitalOcean;
  readonly bastion: number;
  /** The firewall `ingress-public` as the cloud has it now. */
  firewall(): ReturnType<FakeDigitalOcean['model']['firewalls']['get']> & object;
  /** The droplet an address is assigned to (null: unassigned or absent). */
  holderDroplet(ip: string): number | null;
  /** `tcp/22`-style keys of the firewall's inbound rules, sorted. */
  inbound(): string[];
}

/** Starts the fake with `token` accepted, `droplets` (node name → droplet id) in nyc3, and the firewall. */
export async function startDigitalOceanAccount(token: string, droplets: Record<string, number>, bastion: number): Promise<DigitalOceanAccount> {
  const fake = await new FakeDigitalOcean().start();
  fake.tokens.add(token);
  for (const [name, id] of Object.entries(droplets)) fake.model.addDroplet(id, 'nyc3', name);
  fake.model.addDroplet(bastion, 'nyc3', 'bastion');
  const firewallId = fake.model.addFirewall('ingress-public', { dropletIds: [bastion], inbound: [FOREIGN_RULE] });
  const firewall = () => fake.model.firewalls.get(firewallId)!;
  return {
    fake,
    bastion,
    firewall,
    holderDroplet: (ip) => fake.model.reservedIPs.get(ip)?.dropletId ?? null,
    inbound: () => firewall().inbound.map((r) => `${r.protocol}/${r.ports}`).sort(),
  };
}
