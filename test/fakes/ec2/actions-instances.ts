/** Instance and network-interface actions of the fake EC2. */
import { Ec2Fault, type QueryParams } from './query.js';
import { OWNER_ID, type Ec2State, type FakeEni, type FakeInstance } from './state.js';
import type { XmlNode } from './xml.js';

const groupSet = (state: Ec2State, eni: FakeEni) => eni.groups.map((id) => ({ groupId: id, groupName: state.groups.get(id)?.name }));
const privateIpSet = (eni: FakeEni) => eni.privateIps.map((ip, i) => ({ privateIpAddress: ip, primary: i === 0 }));
const publicOf = (state: Ec2State, eni: FakeEni, ip: string) =>
  [...state.addresses.values()].find((a) => a.association?.eniId === eni.id && a.association.privateIp === ip)?.publicIp;

const eniInInstanceXml = (state: Ec2State, eni: FakeEni): XmlNode => ({
  networkInterfaceId: eni.id,
  subnetId: eni.subnetId,
  vpcId: eni.vpcId,
  ownerId: OWNER_ID,
  status: 'in-use',
  privateIpAddress: eni.privateIps[0],
  attachment: eni.attachment && { attachmentId: eni.attachment.attachmentId, deviceIndex: eni.attachment.deviceIndex, status: 'attached', deleteOnTermination: eni.attachment.deviceIndex === 0 },
  groupSet: groupSet(state, eni),
  privateIpAddressesSet: privateIpSet(eni),
});

const instanceXml = (state: Ec2State, i: FakeInstance): XmlNode => {
  const enis = i.state === 'running' ? state.enisOf(i.id) : [];
  const primary = enis[0];
  return {
    instanceId: i.id,
    imageId: 'ami-12345678',
    instanceState: { code: i.state === 'running' ? 16 : 48, name: i.state },
    instanceType: 't3.micro',
    placement: { availabilityZone: i.zone },
    subnetId: i.subnetId,
    vpcId: primary?.vpcId,
    privateIpAddress: primary?.privateIps[0],
    ipAddress: primary && publicOf(state, primary, primary.privateIps[0] ?? ''),
    groupSet: primary ? groupSet(state, primary) : [],
    networkInterfaceSet: enis.map((e) => eniInInstanceXml(state, e)),
  };
};

/**
 * The Elastic IP on private IP `ip` of `eni`, as DescribeNetworkInterfaces reports it
 * (NetworkInterfaceAssociation), or undefined.
 */
const associationXml = (state: Ec2State, eni: FakeEni, ip: string | undefined): XmlNode | undefined => {
  const a = [...state.addresses.values()].find((x) => x.association?.eniId === eni.id && x.association.privateIp === ip);
  return a?.association && { allocationId: a.allocationId, associationId: a.association.associationId, ipOwnerId: OWNER_ID, publicIp: a.publicIp };
};

const eniXml = (state: Ec2State, eni: FakeEni): XmlNode => ({
  association: associationXml(state, eni, eni.privateIps[0]),
  networkInterfaceId: eni.id,
  subnetId: eni.subnetId,
  vpcId: eni.vpcId,
  ownerId: OWNER_ID,
  status: eni.attachment ? 'in-use' : 'available',
  privateIpAddress: eni.privateIps[0],
  attachment: eni.attachment && { attachmentId: eni.attachment.attachmentId, instanceId: eni.attachment.instanceId, instanceOwnerId: OWNER_ID, deviceIndex: eni.attachment.deviceIndex, status: 'attached' },
  groupSet: groupSet(state, eni),
  // DescribeNetworkInterfaces reports each private IP's Elastic IP (DescribeInstances does not).
  privateIpAddressesSet: privateIpSet(eni).map((p) => ({ ...p, association: associationXml(state, eni, p.privateIpAddress) })),
  interfaceType: 'interface',
});

function eniMatches(eni: FakeEni, name: string, values: string[]): boolean {
  switch (name) {
    case 'group-id': return eni.groups.some((g) => values.includes(g));
    case 'attachment.instance-id': return eni.attachment !== undefined && values.includes(eni.attachment.instanceId);
    case 'network-interface-id': return values.includes(eni.id);
    case 'vpc-id': return values.includes(eni.vpcId);
    default: throw new Ec2Fault('InvalidParameterValue', `The filter '${name}' is invalid`);
  }
}

const validGroups = (state: Ec2State, ids: string[]): string[] => {
  for (const id of ids) state.group(id);
  return ids;
};

/** Action name → handler. */
export const instanceActions: Record<string, (state: Ec2State, p: QueryParams) => XmlNode> = {
  RunInstances(state, p) {
    const count = p.int('MinCount') ?? 1;
    const zone = p.get('Placement.AvailabilityZone') ?? 'us-east-1a';
    const launched = Array.from({ length: count }, () => state.launch(zone, validGroups(state, p.list('SecurityGroupId'))));
    return { reservationId: state.newId('r'), ownerId: OWNER_ID, groupSet: [], instancesSet: launched.map((i) => instanceXml(state, i)) };
  },

  DescribeInstances(state, p) {
    const ids = p.list('InstanceId');
    const found = ids.length > 0 ? ids.map((id) => state.instance(id)) : [...state.instances.values()];
    return { reservationSet: found.map((i) => ({ reservationId: `r-${i.id.slice(2)}`, ownerId: OWNER_ID, groupSet: [], instancesSet: [instanceXml(state, i)] })) };
  },

  TerminateInstances(state, p) {
    const ids = p.list('InstanceId');
    for (const id of ids) {
      state.instance(id).state = 'terminated';
      for (const eni of state.enisOf(id)) {
        for (const a of state.addresses.values()) if (a.association?.eniId === eni.id) delete a.association;
        if (eni.attachment?.deviceIndex === 0) state.enis.delete(eni.id);
        else delete eni.attachment;
      }
    }
    return { instancesSet: ids.map((instanceId) => ({ instanceId, currentState: { code: 48, name: 'terminated' } })) };
  },

  DescribeNetworkInterfaces(state, p) {
    const ids = p.list('NetworkInterfaceId');
    for (const id of ids) state.eni(id);
    const filters = p.filters();
    const found = [...state.enis.values()].filter((e) => (ids.length === 0 || ids.includes(e.id)) && [...filters].every(([n, v]) => eniMatches(e, n, v)));
    return { networkInterfaceSet: found.map((e) => eniXml(state, e)) };
  },

  CreateNetworkInterface(state, p) {
    p.required('SubnetId');
    const eni = state.createEni(validGroups(state, p.list('SecurityGroupId').length > 0 ? p.list('SecurityGroupId') : [state.defaultGroupId()]));
    return { networkInterface: eniXml(state, eni) };
  },

  AttachNetworkInterface(state, p) {
    const eni = state.eni(p.required('NetworkInterfaceId'));
    const instance = state.instance(p.required('InstanceId'));
    const deviceIndex = Number(p.required('DeviceIndex'));
    if (eni.attachment) throw new Ec2Fault('InvalidParameterValue', `Interface ${eni.id} is already attached`);
    if (state.enisOf(instance.id).some((e) => e.attachment?.deviceIndex === deviceIndex)) throw new Ec2Fault('InvalidParameterValue', `Device index ${deviceIndex} is in use`);
    eni.attachment = { instanceId: instance.id, deviceIndex, attachmentId: state.newId('eni-attach') };
    return { attachmentId: eni.attachment.attachmentId };
  },

  AssignPrivateIpAddresses(state, p) {
    const eni = state.eni(p.required('NetworkInterfaceId'));
    const count = p.int('SecondaryPrivateIpAddressCount') ?? 0;
    const added = [...p.list('PrivateIpAddress'), ...Array.from({ length: count }, () => state.newPrivateIp())];
    if (added.length === 0) throw new Ec2Fault('MissingParameter', 'Either private IP addresses or a secondary private IP address count must be specified');
    for (const ip of added) if ([...state.enis.values()].some((e) => e.privateIps.includes(ip))) throw new Ec2Fault('InvalidParameterValue', `The private IP address ${ip} is already in use`);
    eni.privateIps.push(...added);
    return { networkInterfaceId: eni.id, assignedPrivateIpAddressesSet: added.map((privateIpAddress) => ({ privateIpAddress })), return: true };
  },

  ModifyNetworkInterfaceAttribute(state, p) {
    const eni = state.eni(p.required('NetworkInterfaceId'));
    const groups = p.list('SecurityGroupId');
    if (groups.length > 0) eni.groups = [...new Set(validGroups(state, groups))];
    return { return: true };
  },
};
