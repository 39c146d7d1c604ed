/**
 * The shared issuer contract run against the DigitalOcean issuer and the fake API.
 *
 * A reserved IP carries no mark, so on DigitalOcean ownership rests on the status: the recorded
 * address and the create intent recorded before a create. The core feeds both back; the
 * suite's queries do not, so this adapter plays that part per owner. Lost answers and lost or
 * stale status are tested in `issuer.test.ts` and `sync.test.ts`.
 */
import t from 'tap';
import type { FindRoutedIPQuery, NodeTarget, RoutedIPIssuer, RoutedIPOwner } from '../../src/issuers/issuer.js';
import type { CreateIntent } from '../../src/schemas/routed-ip.js';
import { issuerContract } from '../issuers/contract.js';
import { makeIssuer, startFake, target, TOKEN } from './helpers.js';

/**
 * Wraps an issuer so it sees what the core would feed back from status: each owner's last
 * reported address as `lastKnownAddress`, and a create intent recorded (as a sync would, one
 * sync earlier) before each create, passed to the create and to later finds.
 */
function withStatusRoundTrip(issuer: RoutedIPIssuer): RoutedIPIssuer {
  const status = new Map<string, string>();
  const intents = new Map<string, CreateIntent>();
  return Object.assign(Object.create(issuer) as RoutedIPIssuer, {
    async findRoutedIP(query: FindRoutedIPQuery) {
      const last = status.get(query.owner.uid);
      const intent = intents.get(query.owner.uid);
      const ip = await issuer.findRoutedIP({
        ...query,
        ...(last !== undefined && query.lastKnownAddress === undefined ? { lastKnownAddress: last } : {}),
        ...(intent && !query.intent ? { intent } : {}),
      });
      if (ip) status.set(query.owner.uid, ip.address);
      return ip;
    },
    async createRoutedIP(owner: RoutedIPOwner, node: NodeTarget, given?: CreateIntent) {
      const known = (await issuer.addressInventory!()).addresses;
      const intent = given ?? { node: node.node, target: node.id, since: '2026-11-23T12:00:00Z', knownAddresses: [...known] };
      intents.set(owner.uid, intent);
      const ip = await issuer.createRoutedIP(owner, node, intent);
      status.set(owner.uid, ip.address);
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
