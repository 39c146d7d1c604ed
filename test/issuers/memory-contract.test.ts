/** The shared issuer contract run against the memory issuer. */
import t from 'tap';
import { issuerContract } from './contract.js';
import { memoryIssuer } from './memory-helpers.js';

issuerContract(t, {
  name: 'memory',
  async world() {
    const { cloud, issuer, account } = memoryIssuer({ firewalls: ['public'] });
    const foreign = { rules: [{ protocol: 'tcp' as const, port: 22, sources: ['10.0.0.0/8'] }], nodes: ['bastion'] };
    cloud.seedFirewall(account, 'public', foreign);
    const adoptable = cloud.seedAddress(account, { address: '203.0.113.200' });
    return {
      issuer,
      nodes: [issuer.nodeTarget({ metadata: { name: 'n1' } })!, issuer.nodeTarget({ metadata: { name: 'n2' } })!],
      firewallName: 'public',
      foreign,
      adoptableAddress: adoptable.address,
      unknownAddress: '203.0.113.250',
      writes: () => cloud.writes().length,
    };
  },
});
