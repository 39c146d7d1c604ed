/**
 * A scripted cluster on an EC2 peer: instances launched through the SDK, Nodes whose providerIDs
 * name them, a security group `ingress-public` with a foreign rule, the aws issuer behind the
 * real app, and a RoutedIP whose status is fed back from each answer as Metacontroller does.
 */
import {
  AllocateAddressCommand,
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DisassociateAddressCommand,
  ReleaseAddressCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { FastifyInstance } from 'fastify';
import type { AppOptions } from '../../src/app.js';
import type { Ec2Api } from '../../src/issuers/aws/client.js';
import type { AwsFactoryOptions } from '../../src/issuers/aws/index.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import type { Node } from '../../src/schemas/kubernetes.js';
import type { RoutedIPIssuerSpec, RoutedIPObject, RoutedIPStatus } from '../../src/schemas/routed-ip.js';
import { ingressRequest, node, routedIP, secret, withProviderID, type World } from '../fixtures/k8s.js';
import { buildTestApp, finalize, sync, syncSettled, testClock, type HookAnswer, type Teardown } from '../helpers/app.js';
import { heldAddresses } from './holders.js';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, type Ec2Peer } from './peers.js';

export const FIREWALL = 'ingress-public';
/** A rule someone else added to the group: never to be touched. */
export const FOREIGN_RULE = { protocol: 'tcp' as const, port: 22, sources: ['10.0.0.0/8'] };

/** Mutating EC2 actions the issuer sends, in order (recorded on the client side: works on both peers). */
const MUTATING = new Set(['allocateAddress', 'associateAddress', 'disassociateAddress', 'releaseAddress', 'authorizeSecurityGroupIngress', 'revokeSecurityGroupIngress', 'modifyNetworkInterfaceAttribute']);

/** The scripted world. */
export class AwsWorld {
  readonly clock = testClock();
  /** Node name → instance id. */
  readonly instances = new Map<string, string>();
  nodes: Node[] = [];
  ports: number[] = [80, 443];
  endpointsOn: string[] = [];
  groupId = '';
  /** Another group every instance has (the VPC's default): must stay on the interfaces. */
  baseGroupId = '';
  issuerSpec!: RoutedIPIssuerSpec;
  parent: RoutedIPObject = routedIP('public', { serviceRef: { name: 'ingress-nginx' } });
  secretData: Record<string, string> = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
  readonly writes: string[] = [];
  /** Other RoutedIPs delivered as related objects (their status as this call sees it). */
  related: RoutedIPObject[] = [];
  app!: FastifyInstance;
  logs: string[] = [];

  constructor(readonly peer: Ec2Peer) {}

  /**
   * Resets the peer, creates the groups and `names` instances (zone a), and builds the app
   * (`appOptions`: a cluster name, an issuer policy other than the tests' default).
   */
  async start(t: Teardown, names: string[] = ['n1', 'n2'], factory: AwsFactoryOptions = {}, appOptions: Pick<AppOptions, 'clusterName' | 'issuerPolicy'> = {}): Promise<this> {
    await this.peer.reset();
    const admin = this.peer.admin;
    this.baseGroupId = (await admin.send(new CreateSecurityGroupCommand({ GroupName: 'nodes', Description: 'node group' }))).GroupId ?? '';
    this.groupId = (await admin.send(new CreateSecurityGroupCommand({ GroupName: FIREWALL, Description: 'public ingress' }))).GroupId ?? '';
    await admin.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: this.groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'bastion' }] }] }));
    for (const name of names) await this.addNode(name);
    this.issuerSpec = {
      routedIPReclaimPolicy: 'Delete',
      routedIPFirewallName: FIREWALL,
      firewallSourceRanges: ['0.0.0.0/0', '::/0'],
      aws: { region: REGION, endpoint: this.peer.endpoint, credentialsSecretRef: { name: 'aws-creds' } },
    };
    const wrapApi = (api: Ec2Api): Ec2Api =>
      Object.fromEntries(
        Object.entries(api).map(([method, fn]) => [method, (input: unknown) => {
          if (MUTATING.has(method)) this.writes.push(method);
          return (fn as (i: unknown) => Promise<unknown>)(input);
        }]),
      ) as unknown as Ec2Api;
    const built = await buildTestApp(t, {
      registry: createIssuerRegistry({ aws: { wrapApi, now: () => this.clock.now().getTime(), ...factory } }),
      clock: this.clock.now,
      ...appOptions,
    });
    this.app = built.app;
    this.logs = built.logs;
    this.peer.fake?.clearCalls();
    return this;
  }

  /** Launches an instance in `zone` with the base group and adds a Node (and an endpoint) for it. */
  async addNode(name: string, zone = `${REGION}a`): Promise<string> {
    const out = await this.peer.admin.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', Placement: { AvailabilityZone: zone }, SecurityGroupIds: [this.baseGroupId] }));
    const id = out.Instances?.[0]?.InstanceId ?? '';
    this.instances.set(name, id);
    this.nodes.push(node(name, withProviderID(`aws:///${zone}/${id}`)));
    this.endpointsOn.push(name);
    return id;
  }

  /**
   * Gives `name`'s instance a second network interface (device index 1), like a VPC-CNI node,
   * in `groups` (default: the base group).
   */
  async addSecondInterface(name: string, groups: string[] = [this.baseGroupId]): Promise<void> {
    const id = this.instance(name);
    const described = await this.peer.admin.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const subnet = described.Reservations?.[0]?.Instances?.[0]?.SubnetId ?? '';
    const eni = await this.peer.admin.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, Groups: groups }));
    await this.peer.admin.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterface?.NetworkInterfaceId ?? '', InstanceId: id, DeviceIndex: 1 }));
  }

  /** The primary interface (device index 0) of `name`'s instance: its id and private IPs, primary first. */
  async primaryEni(name: string): Promise<{ id: string; privateIps: string[] }> {
    const out = await this.peer.admin.send(new DescribeInstancesCommand({ InstanceIds: [this.instance(name)] }));
    const eni = (out.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces ?? []).find((e) => e.Attachment?.DeviceIndex === 0);
    const ips = [...(eni?.PrivateIpAddresses ?? [])].sort((a, b) => Number(b.Primary === true) - Number(a.Primary === true)).map((p) => p.PrivateIpAddress ?? '');
    return { id: eni?.NetworkInterfaceId ?? '', privateIps: ips };
  }

  /** Adds `count` secondary private IPs to `name`'s primary interface, as the VPC CNI does for pods. */
  async addSecondaryIps(name: string, count = 1): Promise<void> {
    const eni = await this.primaryEni(name);
    await this.peer.admin.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.id, SecondaryPrivateIpAddressCount: count }));
  }

  /**
   * Someone else's Elastic IP (no RoutedIP tag) on `name`'s primary private IP, or on its
   * `index`-th private IP; returns its allocation id.
   */
  async foreignAddressOn(name: string, index = 0): Promise<string> {
    const eni = await this.primaryEni(name);
    const allocated = await this.peer.admin.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await this.peer.admin.send(new AssociateAddressCommand({ AllocationId: allocated.AllocationId, NetworkInterfaceId: eni.id, PrivateIpAddress: eni.privateIps[index] }));
    return allocated.AllocationId ?? '';
  }

  /** Disassociates and releases the address `allocationId` (someone else's cleanup). */
  async dropAddress(allocationId: string): Promise<void> {
    const out = await this.peer.admin.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] }));
    const associationId = out.Addresses?.[0]?.AssociationId;
    if (associationId) await this.peer.admin.send(new DisassociateAddressCommand({ AssociationId: associationId }));
    await this.peer.admin.send(new ReleaseAddressCommand({ AllocationId: allocationId }));
  }

  /** Every Elastic IP on `name`'s primary interface as `public@private`, sorted. */
  async onPrimary(name: string): Promise<string[]> {
    const eni = await this.primaryEni(name);
    const out = await this.peer.admin.send(new DescribeAddressesCommand({ Filters: [{ Name: 'network-interface-id', Values: [eni.id] }] }));
    return (out.Addresses ?? []).map((a) => `${a.PublicIp}@${a.PrivateIpAddress}`).sort();
  }

  instance(name: string): string {
    const id = this.instances.get(name);
    if (!id) throw new Error(`no node ${name}`);
    return id;
  }

  request(extra: Partial<World> = {}) {
    return ingressRequest(this, { secrets: [secret('aws-creds', this.secretData)], routedIPs: this.related, ...extra });
  }

  /** Another RoutedIP `name` on the same peer, app and cluster (its own status). */
  sibling(name: string): AwsWorld {
    const other = new AwsWorld(this.peer);
    const { peer: _peer, parent: _parent, related: _related, ...shared } = this;
    Object.assign(other, shared);
    other.parent = routedIP(name, { serviceRef: { name: 'ingress-nginx' } });
    other.parent = { ...other.parent, metadata: { ...other.parent.metadata, uid: `uid-${name}` } };
    return other;
  }

  /** POST /sync once and feed the status back. */
  async syncOnce(): Promise<HookAnswer> {
    const answer = await sync(this.app, this.request());
    if (answer.statusCode === 200) this.parent = { ...this.parent, status: answer.body.status };
    return answer;
  }

  /** `syncOnce`, repeated while an answer only recorded a firewall claim (see `syncSettled`). */
  sync(): Promise<HookAnswer & { claims: number }> {
    return syncSettled(() => this.syncOnce());
  }

  async finalize(): Promise<HookAnswer> {
    this.parent = { ...this.parent, metadata: { ...this.parent.metadata, deletionTimestamp: '2026-11-23T12:00:00Z' } };
    const answer = await finalize(this.app, this.request());
    if (answer.statusCode === 200) this.parent = { ...this.parent, status: answer.body.status };
    return answer;
  }

  /** Finalizes until `finalized` (at most 5 calls). */
  async finalizeAll(): Promise<boolean> {
    for (let i = 0; i < 5; i++) if ((await this.finalize()).body.finalized === true) return true;
    return false;
  }

  get status(): RoutedIPStatus {
    return this.parent.status as RoutedIPStatus;
  }

  /** Every Elastic IP: address, holder node name, tags. */
  async addresses(): Promise<Array<{ publicIp: string; node?: string; tags: Record<string, string> }>> {
    const nodeOf = new Map([...this.instances].map(([n, id]) => [id, n]));
    return (await heldAddresses(this.peer.admin)).map((a) => ({
      publicIp: a.publicIp,
      ...(a.instanceId ? { node: nodeOf.get(a.instanceId) ?? a.instanceId } : {}),
      tags: a.tags,
    })).sort((a, b) => a.publicIp.localeCompare(b.publicIp));
  }

  /** The firewall's ingress ranges as `proto/port cidr [description]`, sorted. */
  async rules(): Promise<string[]> {
    const out = await this.peer.admin.send(new DescribeSecurityGroupsCommand({ GroupIds: [this.groupId] }));
    const perms = out.SecurityGroups?.[0]?.IpPermissions ?? [];
    return perms.flatMap((p) => [
      ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol}/${p.FromPort} ${r.CidrIp} ${r.Description ?? ''}`.trim()),
      ...(p.Ipv6Ranges ?? []).map((r) => `${p.IpProtocol}/${p.FromPort} ${r.CidrIpv6} ${r.Description ?? ''}`.trim()),
    ]).sort();
  }

  /** Group ids of each network interface of `name`'s instance, primary first. */
  async groupsOf(name: string): Promise<string[][]> {
    const out = await this.peer.admin.send(new DescribeInstancesCommand({ InstanceIds: [this.instance(name)] }));
    const enis = [...(out.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces ?? [])].sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0));
    return enis.map((e) => (e.Groups ?? []).map((g) => g.GroupId ?? '').sort());
  }
}

/** The status of condition `type`. */
export const condition = (status: RoutedIPStatus, type: string) => status.conditions.find((c) => c.type === type);
