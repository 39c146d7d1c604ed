/**
 * The AWS account of the seeded concurrency suite, on either EC2 peer (the wire-level fake or
 * moto's server; see harness.ts and docs/concurrency.md): the production aws issuer factory (the
 * SDK's retries, request timeouts, AllocateAddress never retried) through the real
 * `@aws-sdk/client-ec2`. Setup and inspection go through an admin client, so the checks read the
 * same on both peers. Faults: on the fake, on the wire (a 500, or a lost response: the action is
 * performed, then the socket destroyed, which the SDK's retry meets); moto cannot inject, so
 * there they are raised just above the SDK (the write performed and a reset thrown, or an
 * InternalError before it).
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Ec2Api } from '../../src/issuers/aws/client.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { node, secret, withProviderID } from '../fixtures/k8s.js';
import { heldAddresses } from '../aws/holders.js';
import { REGION } from '../aws/peers.js';
import type { FakeEc2 } from '../fakes/ec2/server.js';
import { clock, OTHER_CLUSTER_MARK, type CloudUnderTest, type Dice, type Suite } from './harness.js';

const FIREWALL = 'ingress-public';
/** Rules someone else added to the group (`proto/port cidr description`). */
const FOREIGN_RULES = ['tcp/22 10.0.0.0/8 bastion', 'tcp/443 192.0.2.0/24 web team', `tcp/443 0.0.0.0/0 ${OTHER_CLUSTER_MARK}`];
/** The issuer's writes, as EC2 actions and as the issuer's Ec2Api methods. */
const WRITES = ['AllocateAddress', 'AssociateAddress', 'DisassociateAddress', 'ReleaseAddress', 'AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress', 'ModifyNetworkInterfaceAttribute'];
const methodOf = (action: string) => action[0]!.toLowerCase() + action.slice(1);

/** Faults armed for moto, raised around the Ec2Api call (the action name → what to do next time). */
const motoFaults = new Map<string, Array<'lost' | 'failure'>>();

/** Raises the faults armed in `motoFaults` around the issuer's EC2 calls. */
function faultyApi(api: Ec2Api): Ec2Api {
  return Object.fromEntries(
    Object.entries(api).map(([method, fn]) => [
      method,
      async (input: unknown) => {
        const action = WRITES.find((a) => methodOf(a) === method);
        const fault = action ? motoFaults.get(action)?.shift() : undefined;
        if (fault === 'failure') throw Object.assign(new Error('injected: We encountered an internal error.'), { name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
        const out = await (fn as (i: unknown) => Promise<unknown>)(input);
        if (fault === 'lost') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return out;
      },
    ]),
  ) as unknown as Ec2Api;
}

/** The registry of an AWS suite: the production factory (moto: with the faults raised above the SDK). */
export function awsRegistry(peer: 'fake' | 'moto'): Suite['registry'] {
  return createIssuerRegistry({ memoryProvider: false, aws: { now: () => clock.now, ...(peer === 'moto' ? { wrapApi: faultyApi } : {}) } });
}

/** A fresh account on the peer at `endpoint` (`reset` empties it; `fake` is set on the fake peer). */
export async function awsCloud(dice: Dice, index: number, peer: { endpoint: string; reset(): Promise<void>; fake?: FakeEc2 }): Promise<CloudUnderTest> {
  await peer.reset();
  motoFaults.clear();
  // Credentials of their own per scenario: no throttle budget or cache carries over between accounts.
  const credentials = { accessKeyId: `AKIDCONC${index}`, secretAccessKey: 'concurrency-secret' };
  const admin = new EC2Client({ region: REGION, endpoint: peer.endpoint, credentials: { ...credentials }, maxAttempts: 1 });
  const baseGroup = (await admin.send(new CreateSecurityGroupCommand({ GroupName: 'nodes', Description: 'node group' }))).GroupId!;
  const group = (await admin.send(new CreateSecurityGroupCommand({ GroupName: FIREWALL, Description: 'public ingress' }))).GroupId!;
  // An instance with one private IP holds one Elastic IP: room for 5 RoutedIPs. One launch for
  // every node and the bastion (the last one) keeps the setup cheap on moto.
  const names = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'].slice(0, dice.chance(0.5) ? 6 : 7);
  const launched = await admin.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: names.length + 1, MaxCount: names.length + 1, InstanceType: 't3.micro', Placement: { AvailabilityZone: `${REGION}a` }, SecurityGroupIds: [baseGroup] }));
  const ids = (launched.Instances ?? []).map((i) => i.InstanceId!);
  const instances = new Map(names.map((name, i) => [name, ids[i]!]));
  const bastion = ids[names.length]!;
  const bastionEni = launched.Instances?.[names.length]?.NetworkInterfaces?.[0]?.NetworkInterfaceId;
  const nodes = names.map((name) => node(name, withProviderID(`aws:///${REGION}a/${instances.get(name)}`)));
  let foreignAddresses: Array<{ publicIp: string; instanceId?: string; tags: Record<string, string> }> = [];
  const rules = async () => {
    const out = await admin.send(new DescribeSecurityGroupsCommand({ GroupIds: [group] }));
    return (out.SecurityGroups?.[0]?.IpPermissions ?? []).flatMap((p) => [
      ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol}/${p.FromPort} ${r.CidrIp} ${r.Description ?? ''}`.trim()),
      ...(p.Ipv6Ranges ?? []).map((r) => `${p.IpProtocol}/${p.FromPort} ${r.CidrIpv6} ${r.Description ?? ''}`.trim()),
    ]);
  };
  /** Instances whose network interfaces carry the group. */
  const members = async () => {
    const out = await admin.send(new DescribeInstancesCommand({}));
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== 'terminated' && (i.NetworkInterfaces ?? []).some((e) => (e.Groups ?? []).some((g) => g.GroupId === group))).map((i) => i.InstanceId!);
  };
  const nameOf = (id: string) => [...instances].find(([, i]) => i === id)?.[0] ?? id;
  return {
    nodes,
    secrets: [secret('aws-creds', { accessKeyId: `AKIDCONC${index}`, secretAccessKey: 'concurrency-secret' })],
    issuerSpec: () => ({ routedIPReclaimPolicy: 'Delete', routedIPFirewallName: FIREWALL, firewallSourceRanges: ['0.0.0.0/0', '::/0'], aws: { region: REGION, endpoint: peer.endpoint, credentialsSecretRef: { name: 'aws-creds' } } }),
    async seedForeign(d) {
      await admin.send(new AuthorizeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'bastion' }] },
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '192.0.2.0/24', Description: 'web team' }, { CidrIp: '0.0.0.0/0', Description: OTHER_CLUSTER_MARK }] },
        ],
      }));
      // The bastion is protected by the group too (someone else put it there).
      await admin.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: bastionEni, Groups: [baseGroup, group] }));
      // Someone else's Elastic IPs: unassociated, or on the bastion (a cluster instance's public IP is its own).
      for (let i = d.int(1, 2); i > 0; i--) {
        const allocation = (await admin.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: [{ Key: 'team', Value: 'web' }] }] }))).AllocationId!;
        if (d.chance(0.5)) await admin.send(new AssociateAddressCommand({ AllocationId: allocation, InstanceId: bastion }));
      }
      foreignAddresses = await heldAddresses(admin);
    },
    async foreignViolations() {
      const out: string[] = [];
      const now = await heldAddresses(admin);
      for (const f of foreignAddresses) {
        const a = now.find((x) => x.publicIp === f.publicIp);
        if (!a) out.push(`foreign Elastic IP ${f.publicIp} released`);
        else if (a.instanceId !== f.instanceId) out.push(`foreign Elastic IP ${f.publicIp} moved from ${f.instanceId ?? 'nowhere'} to ${a.instanceId ?? 'nowhere'}`);
        else if (JSON.stringify(a.tags) !== JSON.stringify(f.tags)) out.push(`foreign Elastic IP ${f.publicIp} retagged ${JSON.stringify(a.tags)}`);
      }
      const present = await rules();
      for (const rule of FOREIGN_RULES) if (!present.includes(rule)) out.push(`foreign rule ${rule} removed`);
      if (!(await members()).includes(bastion)) out.push('foreign member bastion left the group');
      return out;
    },
    async ourAddresses() {
      return (await heldAddresses(admin))
        .filter((a) => !foreignAddresses.some((f) => f.publicIp === a.publicIp))
        .map((a) => ({ address: a.publicIp, ...(a.tags['routedip.io/uid'] !== undefined ? { uid: a.tags['routedip.io/uid'] } : {}) }));
    },
    async ourFirewallEntries() {
      const ours = (await rules()).filter((r) => !FOREIGN_RULES.includes(r)).map((r) => `rule ${r}`);
      return [...ours, ...(await members()).filter((id) => id !== bastion).map((id) => `member ${nameOf(id)}`)];
    },
    injectFault(d) {
      const lost = d.chance(0.5);
      const action = d.pick(WRITES);
      if (peer.fake) peer.fake.fail(action, lost ? { lostResponse: true } : { code: 'InternalError', status: 500 });
      else motoFaults.set(action, [...(motoFaults.get(action) ?? []), lost ? 'lost' : 'failure']);
      return lost ? 'lost' : 'failure';
    },
    clearFaults() {
      peer.fake?.clearFaults();
      motoFaults.clear();
    },
    async close() {
      admin.destroy();
    },
  };
}
