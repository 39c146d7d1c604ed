/** Elastic IP actions of the fake EC2, with AWS semantics (AllowReassociation defaults to true). */
import { Ec2Fault, type QueryParams } from './query.js';
import type { Ec2State, FakeAddress } from './state.js';
import type { XmlNode } from './xml.js';

const addressXml = (state: Ec2State, a: FakeAddress): XmlNode => ({
  publicIp: a.publicIp,
  allocationId: a.allocationId,
  domain: 'vpc',
  associationId: a.association?.associationId,
  instanceId: state.holderOf(a),
  networkInterfaceId: a.association?.eniId,
  networkInterfaceOwnerId: a.association ? '123456789012' : undefined,
  privateIpAddress: a.association?.privateIp,
  tagSet: Object.entries(a.tags).map(([key, value]) => ({ key, value })),
  publicIpv4Pool: 'amazon',
  networkBorderGroup: 'us-east-1',
});

function matches(state: Ec2State, a: FakeAddress, name: string, values: string[]): boolean {
  const one = (v: string | undefined) => v !== undefined && values.includes(v);
  if (name.startsWith('tag:')) return one(a.tags[name.slice(4)]);
  switch (name) {
    case 'tag-key': return Object.keys(a.tags).some((k) => values.includes(k));
    case 'public-ip': return one(a.publicIp);
    case 'allocation-id': return one(a.allocationId);
    case 'association-id': return one(a.association?.associationId);
    case 'network-interface-id': return one(a.association?.eniId);
    case 'private-ip-address': return one(a.association?.privateIp);
    case 'instance-id': return one(state.holderOf(a));
    case 'domain': return values.includes('vpc');
    default: throw new Ec2Fault('InvalidParameterValue', `The filter '${name}' is invalid`);
  }
}

/** Action name → handler. */
export const addressActions: Record<string, (state: Ec2State, p: QueryParams) => XmlNode> = {
  AllocateAddress(state, p) {
    if (p.get('Domain') !== undefined && p.get('Domain') !== 'vpc') throw new Ec2Fault('InvalidParameterValue', 'Only vpc addresses are supported');
    if (state.addresses.size >= (state.options.addressLimit ?? 5)) throw new Ec2Fault('AddressLimitExceeded', 'The maximum number of addresses has been reached.');
    const a: FakeAddress = { allocationId: state.newId('eipalloc'), publicIp: state.newPublicIp(), tags: p.tags('elastic-ip') };
    state.addresses.set(a.allocationId, a);
    return { publicIp: a.publicIp, domain: 'vpc', allocationId: a.allocationId, publicIpv4Pool: 'amazon', networkBorderGroup: 'us-east-1' };
  },

  DescribeAddresses(state, p) {
    const ids = p.list('AllocationId');
    for (const id of ids) state.address(id);
    const ips = p.list('PublicIp');
    for (const ip of ips) if (![...state.addresses.values()].some((a) => a.publicIp === ip)) throw new Ec2Fault('InvalidAddress.NotFound', `Address '${ip}' not found.`);
    const filters = p.filters();
    const found = [...state.addresses.values()].filter(
      (a) => (ids.length === 0 || ids.includes(a.allocationId)) && (ips.length === 0 || ips.includes(a.publicIp)) && [...filters].every(([n, v]) => matches(state, a, n, v)),
    );
    return { addressesSet: found.map((a) => addressXml(state, a)) };
  },

  AssociateAddress(state, p) {
    const a = state.address(p.required('AllocationId'));
    const instanceId = p.get('InstanceId');
    const eniParam = p.get('NetworkInterfaceId');
    if (instanceId !== undefined && eniParam !== undefined) throw new Ec2Fault('InvalidParameterCombination', 'Specify an instance or a network interface, not both');
    let eni;
    if (instanceId !== undefined) {
      const attached = state.enisOf(state.instance(instanceId).id);
      if (attached.length !== 1) {
        throw new Ec2Fault('InvalidInstanceID', `There are multiple interfaces attached to instance '${instanceId}'. Please specify an interface ID for the operation instead.`);
      }
      eni = attached[0];
    } else if (eniParam !== undefined) eni = state.eni(eniParam);
    else throw new Ec2Fault('MissingParameter', 'Either an instance ID or a network interface ID must be specified');
    if (!eni) throw new Ec2Fault('InvalidInstanceID', 'The instance has no network interface');
    const privateIp = p.get('PrivateIpAddress') ?? eni.privateIps[0] ?? '';
    if (!eni.privateIps.includes(privateIp)) throw new Ec2Fault('InvalidParameterValue', `The private IP ${privateIp} is not on ${eni.id}`);
    const same = a.association?.eniId === eni.id && a.association.privateIp === privateIp;
    if (a.association && !same && p.bool('AllowReassociation') === false) throw new Ec2Fault('Resource.AlreadyAssociated', `Resource ${a.publicIp} is already associated.`);
    // An address already on this private IP is displaced (it stays allocated), as on AWS.
    for (const other of state.addresses.values()) {
      if (other !== a && other.association?.eniId === eni.id && other.association.privateIp === privateIp) delete other.association;
    }
    if (!same) a.association = { associationId: state.newId('eipassoc'), eniId: eni.id, privateIp };
    return { return: true, associationId: a.association?.associationId };
  },

  DisassociateAddress(state, p) {
    const id = p.required('AssociationId');
    const a = [...state.addresses.values()].find((x) => x.association?.associationId === id);
    if (!a) throw new Ec2Fault('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`);
    delete a.association;
    return { return: true };
  },

  ReleaseAddress(state, p) {
    const a = state.address(p.required('AllocationId'));
    if (a.association && state.options.releaseRequiresDisassociate !== false) throw new Ec2Fault('InvalidIPAddress.InUse', `Address ${a.publicIp} is in use.`);
    state.addresses.delete(a.allocationId);
    return { return: true };
  },
};
