/**
 * The shared issuer contract run against the DigitalOcean issuer and the fake API.
 *
 * A reserved IP carries no mark, so on DigitalOcean `status.address` is part of how an IP is
 * found again once it is unassigned (on a Droplet it is recognised without it). The core feeds
 * the last reported address back as `lastKnownAddress`; the suite's queries do not, so this
 * adapter plays that part: it remembers, per owner, the address the issuer last reported, as
 * the RoutedIP status would. Lost answers and lost status are tested without this help in
 * `issuer.test.ts` and `sync.test.ts`.
 */
import t from 'tap';
import type { RoutedIPIssuer } from '../../src/issuers/issuer.js';
import { issuerContract } from '../issuers/contract.js';
import { makeIssuer, startFake, target, TOKEN } from './helpers.js';

/** Wraps an issuer so each owner's last reported address comes back as `lastKnownAddress`. */
function withStatusRoundTrip(issuer: RoutedIPIssuer): RoutedIPIssuer {
  const status = new Map<string, string>();
  return Object.assign(Object.create(issuer) as RoutedIPIssuer, {
    async findRoutedIP(query: Parameters<RoutedIPIssuer['findRoutedIP']>[0]) {
      const last = status.get(query.owner.uid);
      const ip = await issuer.findRoutedIP(last !== undefined && query.lastKnownAddress === undefined ? { ...query, lastKnownAddress: last } : query);
      if (ip) status.set(query.owner.uid, ip.address);
      return ip;
    },
    async createRoutedIP(...args: Parameters<RoutedIPIssuer['createRoutedIP']>) {
      const ip = await issuer.createRoutedIP(...args);
      status.set(args[0].uid, ip.address);
      return ip;
    },
  });
}

issuerContract(t, {
  name: 'digitalocean',
  async world(t) {
    const fake = await startFake(t, { actionReads: 2 });
    const foreign = { rules: [{ protocol: 'tcp' as const, port: 22, sources: ['10.0.0.0/8'] }], nodes: ['103'] };
    fake.model.addFirewall('public', {
      dropletIds: [103],
      inbound: [
        { protocol: 'tcp', ports: '22', sources: { addresses: ['10.0.0.0/8'] } },
        { protocol: 'tcp', ports: '8000-9000', sources: { addresses: ['0.0.0.0/0'] } },
        { protocol: 'icmp', ports: '0', sources: { addresses: ['0.0.0.0/0'] } },
      ],
    });
    const adoptable = fake.model.addReservedIP('nyc3', null);
    return {
      issuer: withStatusRoundTrip(makeIssuer(fake)),
      nodes: [target(101), target(102)],
      firewallName: 'public',
      foreign,
      adoptableAddress: adoptable,
      unknownAddress: '198.51.100.250',
      settle: async () => fake.model.completeActions(),
      writes: () => fake.calls.length,
      secrets: [TOKEN],
    };
  },
});
