/**
 * The firewall is a security group. Rules are authorized with a description that marks them as
 * the RoutedIP's (`routedip:<namespace>/<name>[@<cluster>]`, see `../marks.ts`); only ranges
 * carrying this cluster's mark or a mark without a cluster are ever revoked, never another
 * cluster's. Nodes join by adding the group to their primary network interface's group set.
 */
import type { IpPermission, NetworkInterface as Ec2NetworkInterface, SecurityGroup } from '@aws-sdk/client-ec2';
import { IssuerInvalidError } from '../errors.js';
import type { FirewallRule, MarkedRule, NodeTarget, ObservedFirewall, RoutedIPOwner, RuleRevoke } from '../issuer.js';
import { isOtherCluster, mayChange, ownsMark, parseMark, ruleMark } from '../marks.js';
import type { FirewallPort } from '../../schemas/routed-ip.js';
import type { AwsContext } from './context.js';
import { hasCode } from './errors.js';
import { findInstance, primaryInterface, primaryOf } from './instances.js';

const SG_ID = /^sg-[0-9a-f]+$/;
const isV6 = (cidr: string): boolean => cidr.includes(':');
const key = (p: FirewallPort): string => `${p.protocol}/${p.port}`;

/** The security group named `name` (an id `sg-…` or a group name), or `undefined`. */
export async function describeGroup(ctx: AwsContext, name: string): Promise<SecurityGroup | undefined> {
  try {
    const out = await ctx.call('DescribeSecurityGroups', () =>
      ctx.api.describeSecurityGroups(SG_ID.test(name) ? { GroupIds: [name] } : { Filters: [{ Name: 'group-name', Values: [name] }] }),
    );
    const groups = out.SecurityGroups ?? [];
    if (groups.length > 1) {
      const ids = groups.map((g) => g.GroupId).sort().join(', ');
      throw new IssuerInvalidError(`security group name ${name} is ambiguous (${ids}); set routedIPFirewallName to the group id`, 'FirewallAmbiguous');
    }
    return groups[0];
  } catch (err) {
    if (hasCode(err, 'InvalidGroup.NotFound', 'InvalidGroupId.Malformed')) return undefined;
    throw err;
  }
}

/** Single-port TCP/UDP permissions of `group`, as (port, cidr, description) triples. */
function ranges(group: SecurityGroup): Array<{ port: FirewallPort; cidr: string; description?: string }> {
  const out: Array<{ port: FirewallPort; cidr: string; description?: string }> = [];
  for (const perm of group.IpPermissions ?? []) {
    const protocol = perm.IpProtocol;
    if ((protocol !== 'tcp' && protocol !== 'udp') || perm.FromPort === undefined || perm.FromPort !== perm.ToPort) continue;
    const port = { protocol, port: perm.FromPort } as FirewallPort;
    for (const r of perm.IpRanges ?? []) if (r.CidrIp) out.push({ port, cidr: r.CidrIp, ...(r.Description ? { description: r.Description } : {}) });
    for (const r of perm.Ipv6Ranges ?? []) if (r.CidrIpv6) out.push({ port, cidr: r.CidrIpv6, ...(r.Description ? { description: r.Description } : {}) });
  }
  return out;
}

/**
 * FindRoutedIPFirewall: the group, its rules merged per port, its instances, the ranges marked as
 * `owner`'s (either form of its mark) and those marked by another cluster (never ours).
 */
export async function findFirewall(ctx: AwsContext, name: string, owner: RoutedIPOwner): Promise<ObservedFirewall | undefined> {
  const group = await describeGroup(ctx, name);
  if (!group?.GroupId) return undefined;
  const groupId = group.GroupId;
  const merged = new Map<string, { port: FirewallPort; sources: Set<string> }>();
  const owned = new Map<string, { port: FirewallPort; sources: Set<string> }>();
  const foreign = new Map<string, { port: FirewallPort; sources: Set<string> }>();
  const note = (into: typeof merged, port: FirewallPort, cidr: string) => {
    const entry = into.get(key(port)) ?? { port, sources: new Set<string>() };
    entry.sources.add(cidr);
    into.set(key(port), entry);
  };
  for (const r of ranges(group)) {
    note(merged, r.port, r.cidr);
    if (ownsMark(r.description, owner, ctx.cluster)) note(owned, r.port, r.cidr);
    // EC2 holds one range per (port, source): its one description says whose it is.
    if (isOtherCluster(r.description, ctx.cluster)) note(foreign, r.port, r.cidr);
  }
  const byPort = (a: FirewallPort, b: FirewallPort) => a.protocol.localeCompare(b.protocol) || a.port - b.port;
  const flatten = (m: typeof merged) => [...m.values()].map((e) => ({ ...e.port, sources: [...e.sources].sort() })).sort(byPort);
  const rules = flatten(merged);
  // Only a primary interface (device index 0) counts: traffic to the Elastic IP arrives there
  // (the address is associated with it), so a node whose group sits on another interface only
  // (VPC CNI's secondary ENIs) is not protected by it and still needs the group added.
  const primaries = (await groupMembers(ctx, groupId)).filter((n) => n.Attachment?.DeviceIndex === 0);
  const nodes = [...new Set(primaries.map((n) => n.Attachment?.InstanceId).filter((id): id is string => id !== undefined))].sort();
  return { id: groupId, name, rules, nodes, owned: flatten(owned), foreignMarked: flatten(foreign) };
}

/**
 * Every network interface the group `groupId` is on (one DescribeNetworkInterfaces, filter
 * `group-id`), with their attachments and the Elastic IP associations of their private IPs. One
 * answer serves the firewall's observation and, in a converged sync, where our address is
 * (`members.ts`): both ask it with the same input, so the account's read cache shares it.
 */
export async function groupMembers(ctx: AwsContext, groupId: string): Promise<Ec2NetworkInterface[]> {
  const out = await ctx.call('DescribeNetworkInterfaces', () => ctx.api.describeNetworkInterfaces({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
  return out.NetworkInterfaces ?? [];
}

/** One IpPermission per rule, every source marked with `description` when given. */
const permissions = (rules: readonly FirewallRule[], description?: string): IpPermission[] =>
  rules.map((r) => ({
    IpProtocol: r.protocol,
    FromPort: r.port,
    ToPort: r.port,
    IpRanges: r.sources.filter((s) => !isV6(s)).map((CidrIp) => ({ CidrIp, ...(description ? { Description: description } : {}) })),
    Ipv6Ranges: r.sources.filter(isV6).map((CidrIpv6) => ({ CidrIpv6, ...(description ? { Description: description } : {}) })),
  }));

/** Splits rules into one rule per source, for retrying a batch one range at a time. */
const perSource = (rules: readonly FirewallRule[]): FirewallRule[] => rules.flatMap((r) => r.sources.map((s) => ({ protocol: r.protocol, port: r.port, sources: [s] })));

/**
 * AddRoutedIPFirewallPort: one batch; if EC2 rejects it because some range already exists
 * (`InvalidPermission.Duplicate` rejects the whole batch), each range is sent alone and a
 * duplicate counts as done.
 */
export async function addPorts(ctx: AwsContext, fw: ObservedFirewall, rules: readonly FirewallRule[], owner: RoutedIPOwner): Promise<void> {
  if (rules.length === 0) return;
  const send = (batch: readonly FirewallRule[]) =>
    ctx.call('AuthorizeSecurityGroupIngress', () => ctx.api.authorizeSecurityGroupIngress({ GroupId: fw.id, IpPermissions: permissions(batch, ruleMark(owner, ctx.cluster)) }));
  try {
    await send(rules);
  } catch (err) {
    if (!hasCode(err, 'InvalidPermission.Duplicate')) throw err;
    for (const one of perSource(rules)) {
      try {
        await send([one]);
      } catch (e) {
        if (!hasCode(e, 'InvalidPermission.Duplicate')) throw e;
      }
    }
  }
}

/**
 * DeleteRoutedIPFirewallPort: re-reads the group and revokes only the ranges of `rules` that
 * carry a RoutedIP mark of this cluster or of none — this RoutedIP's, or a sibling's whose range
 * it took over as the last one needing it (the plan decides which); a range already gone
 * (`InvalidPermission.NotFound`) is done. A range without a mark (a person's, another tool's) or
 * with another cluster's mark is never revoked.
 */
export async function deletePorts(ctx: AwsContext, fw: ObservedFirewall, rules: readonly FirewallRule[], _owner: RoutedIPOwner): Promise<void> {
  if (rules.length === 0) return;
  const group = await describeGroup(ctx, fw.id);
  if (!group) return;
  const wanted = new Set(rules.flatMap((r) => r.sources.map((s) => `${key(r)} ${s}`)));
  const ours = ranges(group).filter((r) => mayChange(r.description, ctx.cluster) && wanted.has(`${key(r.port)} ${r.cidr}`));
  for (const r of ours) await revokeRange(ctx, fw.id, r.port, r.cidr, r.description);
}

/** Revokes one range (its description sent as read); a range already gone is done. */
async function revokeRange(ctx: AwsContext, groupId: string, port: FirewallPort, cidr: string, description: string | undefined): Promise<void> {
  try {
    await ctx.call('RevokeSecurityGroupIngress', () => ctx.api.revokeSecurityGroupIngress({ GroupId: groupId, IpPermissions: permissions([{ ...port, sources: [cidr] }], description) }));
  } catch (err) {
    if (!hasCode(err, 'InvalidPermission.NotFound')) throw err;
  }
}

/**
 * Orphan sweep, read side: every range of the group named `name` whose description parses as a
 * RoutedIP mark, of any cluster (the plan decides); none when the group does not exist.
 */
export async function listMarkedRules(ctx: AwsContext, name: string): Promise<MarkedRule[]> {
  const group = await describeGroup(ctx, name);
  if (!group?.GroupId) return [];
  const firewall = group.GroupId;
  return ranges(group).flatMap((r) => {
    const mark = parseMark(r.description);
    return mark && r.description !== undefined ? [{ firewall, protocol: r.port.protocol, port: r.port.port, source: r.cidr, mark: r.description, ...mark }] : [];
  });
}

/**
 * Orphan sweep, write side: a fresh DescribeSecurityGroups of the group, then a revoke of the one
 * range only if it still carries exactly the mark named, and that mark is this cluster's. Gone
 * already: `gone`; described otherwise now: `kept`.
 */
export async function revokeOrphanRule(ctx: AwsContext, orphan: RuleRevoke): Promise<'revoked' | 'gone' | 'kept'> {
  if (ctx.cluster === undefined || parseMark(orphan.mark)?.cluster !== ctx.cluster) return 'kept';
  const group = await describeGroup(ctx, orphan.firewall);
  if (!group) return 'gone';
  const port = { protocol: orphan.protocol, port: orphan.port } as FirewallPort;
  const current = ranges(group).find((r) => key(r.port) === key(port) && r.cidr === orphan.source);
  if (!current) return 'gone';
  if (current.description !== orphan.mark) return 'kept';
  await revokeRange(ctx, group.GroupId ?? orphan.firewall, port, orphan.source, orphan.mark);
  ctx.logger.info({ groupId: orphan.firewall, rule: `${key(port)} ${orphan.source}`, mark: orphan.mark }, 'revoked orphaned security-group range');
  return 'revoked';
}

/** AddRoutedIPFirewallNode: read-modify-write of the primary interface's group set. */
export async function addNode(ctx: AwsContext, fw: ObservedFirewall, node: NodeTarget): Promise<void> {
  const eni = await primaryInterface(ctx, node.id);
  if (eni.groups.includes(fw.id)) return;
  await ctx.call('ModifyNetworkInterfaceAttribute', () => ctx.api.modifyNetworkInterfaceAttribute({ NetworkInterfaceId: eni.id, Groups: [...eni.groups, fw.id] }));
  ctx.logger.info({ groupId: fw.id, instanceId: node.id, networkInterfaceId: eni.id }, 'added security group to node');
}

/**
 * DeleteRoutedIPFirewallNode: removes the group from the primary interface of `nodeId` (the one
 * `addNode` writes), keeping its other groups; other interfaces are never touched (the group on
 * them is not ours). A gone instance is done; an interface left with no group is refused (EC2
 * requires one) with a clear condition.
 */
export async function deleteNode(ctx: AwsContext, fw: ObservedFirewall, nodeId: string): Promise<void> {
  const instance = await findInstance(ctx, nodeId);
  const eni = instance ? primaryOf(instance) : undefined;
  if (!eni?.groups.includes(fw.id)) return;
  const rest = eni.groups.filter((g) => g !== fw.id);
  if (rest.length === 0) {
    throw new IssuerInvalidError(`cannot remove ${fw.id} from ${eni.id} of ${nodeId}: it is the interface's only security group`, 'LastSecurityGroup');
  }
  await ctx.call('ModifyNetworkInterfaceAttribute', () => ctx.api.modifyNetworkInterfaceAttribute({ NetworkInterfaceId: eni.id, Groups: rest }));
  ctx.logger.info({ groupId: fw.id, instanceId: nodeId, networkInterfaceId: eni.id }, 'removed security group from node');
}
