/**
 * FindRoutedIP in a converged sync without DescribeAddresses (issue 10: at most 2 cloud reads
 * per RoutedIP per minute). The firewall's observation already lists every network interface
 * its security group is on (DescribeNetworkInterfaces, filter `group-id`), and EC2 reports on
 * each interface the Elastic IP associated with each of its private IPs (`Association`:
 * AllocationId, AssociationId, PublicIp; the interface's own `Association` is its primary
 * private IP's). In steady state our address sits on the holder's primary interface, which is a
 * member of the group: that one listing says both "the holder is in the firewall" and "where our
 * address is".
 *
 * Ownership stays the UID tag: the address is recognised by its allocation id only, and only an
 * allocation id that the account's last listing of our addresses showed carrying this RoutedIP's
 * UID tag (`lastTaggedAllocations`); an adopted `spec.address` by the allocation id its last
 * lookup by public IP gave (`lastAdoptedAllocations`). Allocation ids are unique in the account
 * and never reused, so a foreign Elastic IP on a member interface, or one that took over our old
 * public IP, is never taken for ours, and `parent.status` (possibly stale) plays no part.
 *
 * Only in a `cached` pass, and the answer is recorded as inferred (`HookSession.inferred`): the
 * pass may then only confirm the previous status. Anything else — the address not found on a
 * member (not converged, moved, disassociated, released, the holder's interface taken out of
 * the group), a move to make, a status that would change — goes the usual way
 * (DescribeAddresses by tag), and every write after fresh reads.
 */
import type { NetworkInterface, NetworkInterfaceAssociation } from '@aws-sdk/client-ec2';
import type { ObservedRoutedIP } from '../issuer.js';
import type { AwsContext } from './context.js';
import { describeGroup, groupMembers } from './firewall.js';

/** Every association an interface reports: its own (the primary private IP's) and each private IP's. */
const associations = (eni: NetworkInterface): NetworkInterfaceAssociation[] =>
  [eni.Association, ...(eni.PrivateIpAddresses ?? []).map((p) => p.Association)].filter((a): a is NetworkInterfaceAssociation => a !== undefined);

/**
 * The Elastic IP whose allocation id is the one of `ids` (the evidence the caller has:
 * `lastTaggedAllocations` for an address we allocated, `lastAdoptedAllocations` for an adopted
 * `spec.address`), as found on a member interface of the security group `firewallName`, or
 * `undefined` when this shortcut does not apply or finds nothing (the caller then reads as usual).
 * Never throws: a failed read here is left to the usual path and to FindRoutedIPFirewall.
 */
export async function foundOnMembers(ctx: AwsContext, ids: readonly string[] | undefined, firewallName: string | undefined): Promise<ObservedRoutedIP | undefined> {
  if (ctx.session.reads !== 'cached' || firewallName === undefined) return undefined;
  // None listed yet, or two (the usual path picks and reports): no shortcut.
  if (ids?.length !== 1) return undefined;
  const id = ids[0]!;
  try {
    const group = await describeGroup(ctx, firewallName);
    if (!group?.GroupId) return undefined;
    const found = (await groupMembers(ctx, group.GroupId)).flatMap((eni) => {
      // The interface's own association repeats its primary private IP's.
      const association = associations(eni).find((a) => a.AllocationId === id);
      return association ? [{ association, holder: eni.Attachment?.InstanceId }] : [];
    });
    // An address has one association. Anything else here (reported on two interfaces, without an
    // association id, on an interface attached to no instance) is not taken: the usual path reads.
    // moto 5 keeps reporting an address on its previous interface after a reassociation.
    const only = found.length === 1 ? found[0]! : undefined;
    if (!only?.holder || only.association.AssociationId === undefined || only.association.PublicIp === undefined) return undefined;
    ctx.session.inferred();
    return { address: only.association.PublicIp, id, holder: only.holder };
  } catch {
    // Reported by the usual path or by FindRoutedIPFirewall, which read the same again.
  }
  return undefined;
}
