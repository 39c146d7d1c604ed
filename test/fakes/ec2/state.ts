/**
 * The fake EC2's account state: Elastic IPs, instances, network interfaces and security groups
 * of one region, with the id formats EC2 uses. Handlers in `actions-*.ts` read and change it.
 */
import { Ec2Fault } from './query.js';

export interface FakeAssociation {
  readonly associationId: string;
  readonly eniId: string;
  readonly privateIp: string;
}
export interface FakeAddress {
  readonly allocationId: string;
  readonly publicIp: string;
  readonly tags: Record<string, string>;
  association?: FakeAssociation;
}
export interface FakeEni {
  readonly id: string;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly privateIps: string[];
  groups: string[];
  attachment?: { instanceId: string; deviceIndex: number; attachmentId: string };
}
export interface FakeInstance {
  readonly id: string;
  readonly zone: string;
  readonly subnetId: string;
  state: 'running' | 'terminated';
}
/** One flattened ingress range: EC2's rule identity is (protocol, from, to, cidr). */
export interface FakeRule {
  readonly protocol: string;
  readonly from: number;
  readonly to: number;
  readonly cidr: string;
  readonly description?: string;
  readonly ruleId: string;
}
export interface FakeGroup {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  rules: FakeRule[];
}

/** Behaviour switches, for tests that need AWS semantics moto lacks. */
export interface FakeEc2Options {
  /** AddressLimitExceeded past this many Elastic IPs (AWS default 5). */
  readonly addressLimit?: number;
  /** ReleaseAddress of an associated address fails with InvalidIPAddress.InUse (non-default VPC). */
  readonly releaseRequiresDisassociate?: boolean;
}

export const OWNER_ID = '123456789012';
export const VPC_ID = 'vpc-0fake0000000000001';
export const SUBNET_ID = 'subnet-0fake000000000001';

/** Canonical CIDR: host bits cleared for IPv4 (100.68.0.18/18 → 100.68.0.0/18), lowercased IPv6. */
export function canonicalCidr(cidr: string): string {
  const [ip = '', bitsText = ''] = cidr.split('/');
  const bits = Number(bitsText);
  if (!ip.includes('.')) return cidr.toLowerCase();
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255)) || !(bits >= 0 && bits <= 32)) {
    throw new Ec2Fault('InvalidParameterValue', `CIDR block ${cidr} is malformed`);
  }
  const n = octets.reduce((acc, o) => acc * 256 + o, 0);
  const masked = bits === 0 ? 0 : n - (n % 2 ** (32 - bits));
  return `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${bits}`;
}

/** The account. */
export class Ec2State {
  readonly addresses = new Map<string, FakeAddress>();
  readonly instances = new Map<string, FakeInstance>();
  readonly enis = new Map<string, FakeEni>();
  readonly groups = new Map<string, FakeGroup>();
  private counter = 0;
  private nextPublic = 1;
  private nextPrivate = 10;

  constructor(readonly options: FakeEc2Options = {}) {
    this.addGroup('default', 'default VPC security group');
  }

  /** A fresh id like `eipalloc-0000000000000001a` (17 hex digits, as EC2's long ids). */
  newId(prefix: string): string {
    this.counter += 1;
    return `${prefix}-${this.counter.toString(16).padStart(17, '0')}`;
  }

  newPublicIp(): string {
    return `198.51.100.${this.nextPublic++}`;
  }

  newPrivateIp(): string {
    return `10.0.${Math.floor(this.nextPrivate / 250)}.${(this.nextPrivate++ % 250) + 1}`;
  }

  addGroup(name: string, description: string): FakeGroup {
    if ([...this.groups.values()].some((g) => g.name === name)) throw new Ec2Fault('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${VPC_ID}'`);
    const group: FakeGroup = { id: this.newId('sg'), name, description, vpcId: VPC_ID, rules: [] };
    this.groups.set(group.id, group);
    return group;
  }

  group(id: string): FakeGroup {
    const g = this.groups.get(id);
    if (!g) throw new Ec2Fault('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    return g;
  }

  instance(id: string): FakeInstance {
    const i = this.instances.get(id);
    if (!i) throw new Ec2Fault('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return i;
  }

  eni(id: string): FakeEni {
    const e = this.enis.get(id);
    if (!e) throw new Ec2Fault('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
    return e;
  }

  address(allocationId: string): FakeAddress {
    const a = this.addresses.get(allocationId);
    if (!a) throw new Ec2Fault('InvalidAllocationID.NotFound', `The allocation ID '${allocationId}' does not exist`);
    return a;
  }

  /** Network interfaces attached to `instanceId`, by device index. */
  enisOf(instanceId: string): FakeEni[] {
    return [...this.enis.values()].filter((e) => e.attachment?.instanceId === instanceId).sort((a, b) => (a.attachment?.deviceIndex ?? 0) - (b.attachment?.deviceIndex ?? 0));
  }

  /** Instance an address's interface is attached to, if any. */
  holderOf(a: FakeAddress): string | undefined {
    return a.association ? this.enis.get(a.association.eniId)?.attachment?.instanceId : undefined;
  }

  /** Launches an instance with a primary interface in `groups`. */
  launch(zone: string, groups: string[]): FakeInstance {
    for (const g of groups) this.group(g);
    const instance: FakeInstance = { id: this.newId('i'), zone, subnetId: SUBNET_ID, state: 'running' };
    this.instances.set(instance.id, instance);
    const eni = this.createEni(groups.length > 0 ? groups : [this.defaultGroupId()]);
    eni.attachment = { instanceId: instance.id, deviceIndex: 0, attachmentId: this.newId('eni-attach') };
    return instance;
  }

  createEni(groups: string[]): FakeEni {
    const eni: FakeEni = { id: this.newId('eni'), subnetId: SUBNET_ID, vpcId: VPC_ID, privateIps: [this.newPrivateIp()], groups: [...groups] };
    this.enis.set(eni.id, eni);
    return eni;
  }

  defaultGroupId(): string {
    return [...this.groups.values()].find((g) => g.name === 'default')?.id as string;
  }
}
