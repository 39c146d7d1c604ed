/**
 * The shared issuer contract run against the Hetzner issuer and the fake Hetzner Cloud API.
 * Floating IPs carry the RoutedIP's UID label, so — unlike DigitalOcean — no status round trip
 * is needed: the suite's queries alone find what was created.
 */
import t from 'tap';
import { issuerContract } from '../issuers/contract.js';
import { makeIssuer, startFake, target, TOKEN } from './helpers.js';

issuerContract(t, {
  name: 'hetzner',
  async world(t) {
    const fake = await startFake(t, { actionReads: 2 });
    fake.model.addFirewall(
      'public',
      [
        { description: 'ssh from the office', direction: 'in', port: '22', protocol: 'tcp', source_ips: ['10.0.0.0/8'], destination_ips: [] },
        { description: null, direction: 'in', port: '8000-9000', protocol: 'tcp', source_ips: ['0.0.0.0/0'], destination_ips: [] },
        { description: null, direction: 'in', port: null, protocol: 'icmp', source_ips: ['0.0.0.0/0', '::/0'], destination_ips: [] },
      ],
      [{ type: 'server', server: { id: 103 } }],
    );
    const adoptable = fake.model.addFloatingIP('fsn1');
    return {
      issuer: makeIssuer(fake),
      nodes: [target(101), target(102)],
      firewallName: 'public',
      foreign: { rules: [{ protocol: 'tcp' as const, port: 22, sources: ['10.0.0.0/8'] }], nodes: ['103'] },
      adoptableAddress: adoptable.ip,
      unknownAddress: '198.51.100.250',
      settle: async () => fake.model.completeActions(),
      writes: () => fake.calls.length,
      secrets: [TOKEN],
    };
  },
});
