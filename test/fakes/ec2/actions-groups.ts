/**
 * Security-group actions of the fake EC2. Rules are stored one per (protocol, ports, source);
 * Authorize and Revoke apply a whole batch or nothing, like EC2 in a non-default VPC.
 */
import { Ec2Fault, type QueryParams } from './query.js';
import { canonicalCidr, OWNER_ID, type Ec2State, type FakeGroup, type FakeRule } from './state.js';
import type { XmlNode } from './xml.js';

type RuleSpec = Omit<FakeRule, 'ruleId'>;
const same = (a: RuleSpec, b: RuleSpec) => a.protocol === b.protocol && a.from === b.from && a.to === b.to && a.cidr === b.cidr;
const isGroupRef = (source: string) => source.startsWith('sg-');

/** The ranges of `IpPermissions.N`, one RuleSpec per source. */
function ruleSpecs(p: QueryParams): RuleSpec[] {
  const out: RuleSpec[] = [];
  for (const perm of p.structs('IpPermissions')) {
    const protocol = perm.required('IpProtocol').toLowerCase();
    const all = protocol === '-1';
    const from = all ? -1 : Number(perm.required('FromPort'));
    const to = all ? -1 : Number(perm.required('ToPort'));
    if (!all && (protocol === 'tcp' || protocol === 'udp') && !(from >= 0 && to <= 65535 && from <= to)) throw new Ec2Fault('InvalidParameterValue', `Invalid port range ${from}-${to}`);
    const add = (cidr: string, description: string | undefined) => out.push({ protocol, from, to, cidr, ...(description !== undefined ? { description } : {}) });
    for (const r of perm.structs('IpRanges')) add(canonicalCidr(r.required('CidrIp')), r.get('Description'));
    for (const r of perm.structs('Ipv6Ranges')) add(canonicalCidr(r.required('CidrIpv6')), r.get('Description'));
    for (const g of perm.structs('Groups')) add(g.required('GroupId'), g.get('Description'));
  }
  if (out.length === 0) throw new Ec2Fault('MissingParameter', 'No source was specified in the permissions');
  return out;
}

/** Rules rendered as EC2 does: one ipPermission per (protocol, from, to). */
function permissionsXml(rules: readonly FakeRule[]): XmlNode[] {
  const perms = new Map<string, FakeRule[]>();
  for (const r of rules) perms.set(`${r.protocol}/${r.from}/${r.to}`, [...(perms.get(`${r.protocol}/${r.from}/${r.to}`) ?? []), r]);
  return [...perms.values()].map((rs) => {
    const first = rs[0] as FakeRule;
    const range = (key: 'cidrIp' | 'cidrIpv6') => (r: FakeRule) => ({ [key]: r.cidr, description: r.description });
    return {
      ipProtocol: first.protocol,
      fromPort: first.protocol === '-1' ? undefined : first.from,
      toPort: first.protocol === '-1' ? undefined : first.to,
      groups: rs.filter((r) => isGroupRef(r.cidr)).map((r) => ({ groupId: r.cidr, userId: OWNER_ID, description: r.description })),
      ipRanges: rs.filter((r) => !isGroupRef(r.cidr) && !r.cidr.includes(':')).map(range('cidrIp')),
      ipv6Ranges: rs.filter((r) => r.cidr.includes(':')).map(range('cidrIpv6')),
      prefixListIds: [],
    };
  });
}

const groupXml = (g: FakeGroup): XmlNode => ({
  ownerId: OWNER_ID,
  groupId: g.id,
  groupName: g.name,
  groupDescription: g.description,
  vpcId: g.vpcId,
  ipPermissions: permissionsXml(g.rules),
  ipPermissionsEgress: [],
  tagSet: [],
});

function groupMatches(g: FakeGroup, name: string, values: string[]): boolean {
  switch (name) {
    case 'group-name': return values.includes(g.name);
    case 'group-id': return values.includes(g.id);
    case 'vpc-id': return values.includes(g.vpcId);
    default: throw new Ec2Fault('InvalidParameterValue', `The filter '${name}' is invalid`);
  }
}

const target = (state: Ec2State, p: QueryParams): FakeGroup => {
  const id = p.get('GroupId');
  if (id !== undefined) return state.group(id);
  const name = p.required('GroupName');
  const g = [...state.groups.values()].find((x) => x.name === name);
  if (!g) throw new Ec2Fault('InvalidGroup.NotFound', `The security group '${name}' does not exist in default VPC '${state.groups.values().next().value?.vpcId}'`);
  return g;
};

/** Action name → handler. */
export const groupActions: Record<string, (state: Ec2State, p: QueryParams) => XmlNode> = {
  CreateSecurityGroup(state, p) {
    const g = state.addGroup(p.required('GroupName'), p.required('GroupDescription'));
    return { return: true, groupId: g.id };
  },

  DescribeSecurityGroups(state, p) {
    const ids = p.list('GroupId');
    for (const id of ids) state.group(id);
    const names = p.list('GroupName');
    const filters = p.filters();
    const found = [...state.groups.values()].filter(
      (g) => (ids.length === 0 || ids.includes(g.id)) && (names.length === 0 || names.includes(g.name)) && [...filters].every(([n, v]) => groupMatches(g, n, v)),
    );
    return { securityGroupInfo: found.map(groupXml) };
  },

  AuthorizeSecurityGroupIngress(state, p) {
    const g = target(state, p);
    const specs = ruleSpecs(p);
    specs.forEach((s, i) => {
      if (g.rules.some((r) => same(r, s)) || specs.slice(0, i).some((o) => same(o, s))) {
        throw new Ec2Fault('InvalidPermission.Duplicate', `the specified rule "peer: ${s.cidr}, ${s.protocol.toUpperCase()}, from port: ${s.from}, to port: ${s.to}, ALLOW" already exists`);
      }
    });
    if (g.rules.length + specs.length > 60) throw new Ec2Fault('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.');
    const added = specs.map((s) => ({ ...s, ruleId: state.newId('sgr') }));
    g.rules.push(...added);
    return {
      return: true,
      securityGroupRuleSet: added.map((r) => ({ securityGroupRuleId: r.ruleId, groupId: g.id, groupOwnerId: OWNER_ID, isEgress: false, ipProtocol: r.protocol, fromPort: r.from, toPort: r.to, [r.cidr.includes(':') ? 'cidrIpv6' : 'cidrIpv4']: r.cidr, description: r.description })),
    };
  },

  RevokeSecurityGroupIngress(state, p) {
    const g = target(state, p);
    const ruleIds = p.list('SecurityGroupRuleId');
    const doomed = ruleIds.length > 0
      ? ruleIds.map((id) => g.rules.find((r) => r.ruleId === id))
      : ruleSpecs(p).map((s) => g.rules.find((r) => same(r, s) && (s.description === undefined || s.description === r.description)));
    if (doomed.some((r) => r === undefined)) throw new Ec2Fault('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
    g.rules = g.rules.filter((r) => !doomed.includes(r));
    return { return: true };
  },
};
