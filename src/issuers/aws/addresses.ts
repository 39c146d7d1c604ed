/**
 * Elastic IPs (VPC). AllocateAddress has no ClientToken, so the leak guard is the UID tag put on
 * the address in the same call (TagSpecification) and looked up before any allocation.
 */
import type { Address } from '@aws-sdk/client-ec2';
import { IssuerInvalidError, IssuerNotFoundError, IssuerUnavailableError } from '../errors.js';
import type { ActionResult, FindRoutedIPQuery, MarkedAddress, NodeTarget, ObservedRoutedIP, OrphanRelease, RoutedIPOwner } from '../issuer.js';
import { CLUSTER_TAG, OWNER_TAG, UID_TAG, retryWhileInvisible, type AwsContext, type PrivateIPPolicy } from './context.js';
import { hasCode } from './errors.js';
import { primaryInterface, primaryInterfaces, slices, type NetworkInterface } from './instances.js';
import { adoptionQuery, lastAdoptedAllocations, lastTaggedAllocations } from './cached-api.js';
import { foundOnMembers } from './members.js';
import { parseZone } from './provider-id.js';

const DONE = { done: true } as const;

const observeWith = (a: Address, holder: string | undefined): ObservedRoutedIP => ({
  address: a.PublicIp ?? '',
  id: a.AllocationId ?? '',
  ...(holder ? { holder } : {}),
});

/**
 * The observed IP, with its holder: `InstanceId`, or — when EC2 reports only the network
 * interface (moto does, for an association by interface) — the instance that interface is
 * attached to.
 */
async function observe(ctx: AwsContext, a: Address): Promise<ObservedRoutedIP> {
  if (a.InstanceId || !a.NetworkInterfaceId) return observeWith(a, a.InstanceId);
  const eniId = a.NetworkInterfaceId;
  const out = await ctx.call('DescribeNetworkInterfaces', () => ctx.api.describeNetworkInterfaces({ NetworkInterfaceIds: [eniId] }));
  return observeWith(a, out.NetworkInterfaces?.find((n) => n.NetworkInterfaceId === eniId)?.Attachment?.InstanceId);
}

/** Associated first, then by allocation id: a deterministic pick should two ever carry our tag. */
const byPreference = (a: Address, b: Address): number =>
  Number(b.AssociationId !== undefined) - Number(a.AssociationId !== undefined) || (a.AllocationId ?? '').localeCompare(b.AllocationId ?? '');

/** The Elastic IPs tagged with `owner`'s UID. */
async function taggedAddresses(ctx: AwsContext, owner: RoutedIPOwner): Promise<Address[]> {
  const out = await ctx.call('DescribeAddresses', () => ctx.api.describeAddresses({ Filters: [{ Name: `tag:${UID_TAG}`, Values: [owner.uid] }] }));
  return (out.Addresses ?? []).filter((a) => a.AllocationId !== undefined).sort(byPreference);
}

/** The Elastic IP with allocation id `id`, or `undefined` once it is released. */
async function addressById(ctx: AwsContext, id: string): Promise<Address | undefined> {
  try {
    const out = await ctx.call('DescribeAddresses', () => ctx.api.describeAddresses({ AllocationIds: [id] }));
    return (out.Addresses ?? []).find((a) => a.AllocationId === id);
  } catch (err) {
    if (hasCode(err, 'InvalidAllocationID.NotFound')) return undefined;
    throw err;
  }
}

/**
 * FindRoutedIP: `spec.address` by public IP (adopted), else the address carrying our UID tag —
 * in a converged `cached` pass found on the firewall's members instead (`members.ts`).
 */
export async function findRoutedIP(ctx: AwsContext, query: FindRoutedIPQuery): Promise<ObservedRoutedIP | undefined> {
  if (query.address === undefined) {
    const converged = await foundOnMembers(ctx, lastTaggedAllocations(ctx.session, query.owner.uid), query.firewallName);
    if (converged) return converged;
    const first = (await taggedAddresses(ctx, query.owner))[0];
    return first && observe(ctx, first);
  }
  const adopt = query.address;
  const converged = await foundOnMembers(ctx, lastAdoptedAllocations(ctx.session, adopt), query.firewallName);
  if (converged?.address === adopt) return converged;
  const out = await ctx.call('DescribeAddresses', () => ctx.api.describeAddresses(adoptionQuery(adopt)));
  const found = (out.Addresses ?? []).find((a) => a.PublicIp === adopt && a.AllocationId !== undefined);
  if (!found) throw new IssuerNotFoundError(`address ${adopt} is not a VPC Elastic IP of this account in region ${ctx.region}`, 'AddressNotFound');
  return observe(ctx, found);
}

/**
 * An AllocateAddress failure that may still have allocated: no answer (timeout, reset
 * connection) or a server fault. A refusal (quota, auth, invalid request, throttle) allocated
 * nothing.
 */
const mayHaveAllocated = (err: unknown): boolean => err instanceof IssuerUnavailableError;

/**
 * CreateRoutedIP: looks the tag up once more, then allocates with both ownership tags, exactly
 * once: AllocateAddress has no ClientToken, so it goes through the client that never retries.
 * When the answer is lost or slow the address may exist anyway, so the tag is looked up again
 * (after each consistency delay, since a new address may take a moment to be listed) instead
 * of allocating again; still not found, the failure is reported and the next sync looks again.
 */
export async function createRoutedIP(ctx: AwsContext, owner: RoutedIPOwner): Promise<ObservedRoutedIP> {
  const existing = (await taggedAddresses(ctx, owner))[0];
  if (existing) return observe(ctx, existing);
  let out;
  try {
    out = await ctx.call('AllocateAddress', () =>
      ctx.api.allocateAddress({
        Domain: 'vpc',
        TagSpecifications: [
          {
            ResourceType: 'elastic-ip',
            Tags: [
              { Key: OWNER_TAG, Value: `${owner.namespace}/${owner.name}` },
              { Key: UID_TAG, Value: owner.uid },
              ...(ctx.cluster !== undefined ? [{ Key: CLUSTER_TAG, Value: ctx.cluster }] : []),
            ],
          },
        ],
      }),
    );
  } catch (err) {
    if (!mayHaveAllocated(err)) throw err;
    for (const delay of [0, ...ctx.consistencyDelaysMs]) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const found = (await taggedAddresses(ctx, owner))[0];
      if (found) {
        ctx.logger.info({ allocationId: found.AllocationId }, 'AllocateAddress answer lost; found the address by its tag');
        return observe(ctx, found);
      }
    }
    throw err;
  }
  ctx.logger.info({ allocationId: out.AllocationId, address: out.PublicIp }, 'allocated Elastic IP');
  return { address: out.PublicIp ?? '', id: out.AllocationId ?? '' };
}

/**
 * An Elastic IP of the region's border group cannot be associated with an interface in another
 * network border group (AssociateAddress API reference), and each Local Zone and Wavelength Zone
 * is one: such a node is refused for its machine (`node`), so the sync re-elects without it.
 */
function refuseOtherBorderGroup(ctx: AwsContext, node: NodeTarget): void {
  const zone = node.zone === undefined ? undefined : parseZone(node.zone);
  if (zone === undefined || zone.availabilityZone) return;
  throw new IssuerInvalidError(
    `node ${node.node} is in ${node.zone}, a Local or Wavelength Zone (a network border group of its own): an Elastic IP of ${ctx.region} cannot be associated there`,
    'OutsideNetworkBorderGroup',
    { node: node.node },
  );
}

/**
 * The private IPs of `eni` an Elastic IP may use under `policy`, in order of preference: the
 * primary one only (PrimaryOnly: with the VPC CNI every secondary private IP of the interface is
 * a pod's or the warm pool's, so an address there would send traffic to a pod), or every one,
 * the primary first (DedicatedSecondaries: the user reserved the secondaries for addresses).
 */
const usableIps = (eni: NetworkInterface, policy: PrivateIPPolicy): readonly string[] => (policy === 'PrimaryOnly' ? eni.privateIps.slice(0, 1) : eni.privateIps);

/** The Elastic IPs on `eniIds` (any private IP), by DescribeAddresses `network-interface-id`. */
async function addressesOn(ctx: AwsContext, eniIds: readonly string[]): Promise<Address[]> {
  const found: Address[] = [];
  for (const ids of slices(eniIds)) {
    const out = await ctx.call('DescribeAddresses', () => ctx.api.describeAddresses({ Filters: [{ Name: 'network-interface-id', Values: ids }] }));
    found.push(...(out.Addresses ?? []));
  }
  return found;
}

/**
 * The instances among `candidates` whose primary interface has no usable private IP free for
 * `ip` (or for a new address): another Elastic IP holds the primary private IP (PrimaryOnly), or
 * every private IP (DedicatedSecondaries). Two reads, whatever the number of nodes (up to 100).
 */
export async function occupiedMachines(ctx: AwsContext, candidates: readonly NodeTarget[], ip: ObservedRoutedIP | undefined): Promise<ReadonlySet<string>> {
  const ids = [...new Set(candidates.map((c) => c.id))].sort();
  const enis = ids.length > 0 ? await primaryInterfaces(ctx, ids) : new Map<string, NetworkInterface>();
  if (enis.size === 0) return new Set();
  const onEnis = await addressesOn(ctx, [...enis.values()].map((e) => e.id));
  return new Set([...enis].filter(([, eni]) => freeIp(ctx, eni, onEnis, ip?.id) === undefined).map(([instanceId]) => instanceId));
}

/** The first usable private IP of `eni` that holds no address but `ip`'s, if any. */
function freeIp(ctx: AwsContext, eni: NetworkInterface, onEni: readonly Address[], ipId: string | undefined): string | undefined {
  const taken = new Set(onEni.filter((a) => a.NetworkInterfaceId === eni.id && a.AllocationId !== ipId).map((a) => a.PrivateIpAddress));
  return usableIps(eni, ctx.privateIPs).find((p) => !taken.has(p));
}

/**
 * AssignRoutedIP: associates with a usable private IP (see `usableIps`) of the node's primary
 * network interface (never InstanceId: it fails on multi-ENI nodes) and `AllowReassociation:
 * true`, so a move is one call with no unassigned gap. A usable IP holding another Elastic IP is
 * never taken over: when none is free the node is refused for its machine (`node`), and the
 * sync re-elects without it (the election already avoids such nodes: `occupiedMachines`).
 */
export async function assignRoutedIP(ctx: AwsContext, ip: ObservedRoutedIP, node: NodeTarget): Promise<ActionResult> {
  refuseOtherBorderGroup(ctx, node);
  const eni = await primaryInterface(ctx, node.id);
  const onEni = await addressesOn(ctx, [eni.id]);
  const usable = usableIps(eni, ctx.privateIPs);
  if (onEni.some((a) => a.AllocationId === ip.id && usable.includes(a.PrivateIpAddress ?? ''))) return DONE;
  const privateIp = freeIp(ctx, eni, onEni, ip.id);
  if (privateIp === undefined) {
    if (ctx.privateIPs === 'PrimaryOnly') {
      const holder = onEni.find((a) => a.PrivateIpAddress === usable[0])?.PublicIp ?? 'another Elastic IP';
      throw new IssuerInvalidError(
        `the primary private IP ${usable[0]} of ${eni.id} on instance ${node.id} already holds ${holder}; the other private IPs are pod IPs with the VPC CNI (set spec.aws.privateIPs: DedicatedSecondaries only if they are reserved for Elastic IPs)`,
        'PrimaryPrivateIPTaken',
        { node: node.node },
      );
    }
    throw new IssuerInvalidError(`every private IP of ${eni.id} on instance ${node.id} already holds an Elastic IP; add a secondary private IP`, 'NoFreePrivateAddress', { node: node.node });
  }
  await retryWhileInvisible(ctx, `Elastic IP ${ip.address}`, ['InvalidAllocationID.NotFound'], () =>
    ctx.call('AssociateAddress', () =>
      ctx.api.associateAddress({ AllocationId: ip.id, NetworkInterfaceId: eni.id, PrivateIpAddress: privateIp, AllowReassociation: true }),
    ),
  );
  ctx.logger.info({ allocationId: ip.id, instanceId: node.id, networkInterfaceId: eni.id }, 'associated Elastic IP');
  return DONE;
}

/** Part of DeleteRoutedIP: disassociates; already released or detached is done. */
export async function unassignRoutedIP(ctx: AwsContext, ip: ObservedRoutedIP): Promise<ActionResult> {
  const current = await addressById(ctx, ip.id);
  const associationId = current?.AssociationId;
  if (associationId === undefined) return DONE;
  try {
    await ctx.call('DisassociateAddress', () => ctx.api.disassociateAddress({ AssociationId: associationId }));
  } catch (err) {
    if (!hasCode(err, 'InvalidAssociationID.NotFound')) throw err;
  }
  return DONE;
}

/**
 * DeleteRoutedIP: releases an address this operator allocated. One without our UID tag (an
 * adopted `spec.address`) is refused, whatever the caller thinks; already released is done.
 */
export async function releaseRoutedIP(ctx: AwsContext, ip: ObservedRoutedIP): Promise<ActionResult> {
  const current = await addressById(ctx, ip.id);
  if (!current) return DONE;
  if (!(current.Tags ?? []).some((t) => t.Key === UID_TAG)) {
    throw new IssuerInvalidError(`refusing to release ${ip.address}: it carries no ${UID_TAG} tag, so this operator did not allocate it`, 'AddressNotOwned');
  }
  try {
    await ctx.call('ReleaseAddress', () => ctx.api.releaseAddress({ AllocationId: ip.id }));
  } catch (err) {
    if (!hasCode(err, 'InvalidAllocationID.NotFound')) throw err;
  }
  ctx.logger.info({ allocationId: ip.id }, 'released Elastic IP');
  return DONE;
}

const tagOf = (a: Address, key: string): string | undefined => (a.Tags ?? []).find((t) => t.Key === key)?.Value;

/** Associated with anything. Moto answers empty elements (`<instanceId/>`) for an unassociated address: empty is absent. */
const isAssociated = (a: Address): boolean => Boolean(a.AssociationId || a.InstanceId || a.NetworkInterfaceId);

/**
 * Orphan sweep, read side: every Elastic IP of the region carrying a UID tag (one
 * DescribeAddresses, filtered by tag key), with its owner and cluster tags and whether it is
 * associated. Addresses without our UID tag are never listed.
 */
export async function listMarkedAddresses(ctx: AwsContext): Promise<MarkedAddress[]> {
  const out = await ctx.call('DescribeAddresses', () => ctx.api.describeAddresses({ Filters: [{ Name: 'tag-key', Values: [UID_TAG] }] }));
  const marked: MarkedAddress[] = [];
  for (const a of out.Addresses ?? []) {
    const uid = tagOf(a, UID_TAG);
    if (a.AllocationId === undefined || uid === undefined || uid === '') continue;
    const owner = tagOf(a, OWNER_TAG);
    const cluster = tagOf(a, CLUSTER_TAG);
    const namespace = owner?.includes('/') ? owner.slice(0, owner.indexOf('/')) : undefined;
    marked.push({
      id: a.AllocationId,
      address: a.PublicIp ?? '',
      uid,
      ...(owner !== undefined ? { owner } : {}),
      ...(namespace ? { namespace } : {}),
      ...(cluster !== undefined ? { cluster } : {}),
      associated: isAssociated(a),
    });
  }
  return marked.sort((x, y) => x.id.localeCompare(y.id));
}

/**
 * Orphan sweep, write side: a fresh DescribeAddresses of the one address, then ReleaseAddress
 * only if it still carries the UID and cluster tags named and is associated with nothing (never
 * a disassociate first: an address in use is somebody's, whatever its tags say).
 */
export async function releaseOrphan(ctx: AwsContext, orphan: OrphanRelease): Promise<'released' | 'gone' | 'kept'> {
  const current = await addressById(ctx, orphan.id);
  if (!current) return 'gone';
  if (isAssociated(current) || tagOf(current, UID_TAG) !== orphan.uid || tagOf(current, CLUSTER_TAG) !== orphan.cluster) return 'kept';
  try {
    await ctx.call('ReleaseAddress', () => ctx.api.releaseAddress({ AllocationId: orphan.id }));
  } catch (err) {
    if (hasCode(err, 'InvalidAllocationID.NotFound')) return 'gone';
    // Associated between the read and the release: in use, so kept.
    if (hasCode(err, 'InvalidIPAddress.InUse')) return 'kept';
    throw err;
  }
  ctx.logger.info({ allocationId: orphan.id, uid: orphan.uid }, 'released orphaned Elastic IP');
  return 'released';
}
