/**
 * The two EC2 peers must agree: one script (first sync, failover, port change, Delete finalize)
 * runs against the fake and against moto, and the answered statuses (ids and addresses replaced
 * by placeholders) and the issuer's mutating calls must be identical, step by step; so must the
 * Elastic IP associations the firewall's member interfaces report (a converged sync reads them).
 */
import { DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import t, { type Test } from 'tap';
import { DEFAULT_READ_CACHE_SECONDS } from '../../src/issuers/session.js';
import { motoAvailable, motoRequired } from './moto.js';
import { fakePeer, motoPeer, type Ec2Peer } from './peers.js';
import { AwsWorld } from './world.js';

/**
 * Replaces cloud ids and the public address by `<kind#n>` in order of appearance. Lists of ids
 * (JSON arrays, comma-joined details) come sorted by the cloud's random ids, so their
 * placeholders are sorted again: the two peers mint different ids for the same machines.
 */
function normalize(raw: string, address: string | undefined): string {
  const seen = new Map<string, string>();
  const text = address ? raw.split(address).join('<address>') : raw;
  const placed = text.replace(/\b(i|eni|sg|eipalloc|eipassoc)-[0-9a-f]+\b/g, (id, kind: string) => {
    if (!seen.has(id)) seen.set(id, `<${kind}#${[...seen.keys()].filter((k) => k.startsWith(`${kind}-`)).length + 1}>`);
    return seen.get(id) as string;
  });
  const sorted = (list: string, sep: string) => list.split(sep).sort().join(sep);
  return placed
    .replace(/"<[a-z]+#\d+>"(?:,"<[a-z]+#\d+>")+/g, (list) => sorted(list, ','))
    .replace(/<[a-z]+#\d+>(?:,<[a-z]+#\d+>)+/g, (list) => sorted(list, ','));
}

/** Runs the script on `peer`; returns one line per step. */
async function script(t: Test, peer: Ec2Peer): Promise<string[]> {
  const w = await new AwsWorld(peer).start(t);
  const steps: string[] = [];
  let address: string | undefined;
  const record = (name: string, raw: string) => {
    address ??= w.status?.address;
    steps.push(`${name} writes=${w.writes.join(',')} status=${normalize(raw, address)}`);
    w.writes.length = 0;
  };
  record('first', (await w.sync()).raw);
  // Where a converged sync finds the address (src/issuers/aws/members.ts): the group's member
  // interfaces, each with the Elastic IP association it reports.
  const members = await w.peer.admin.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: [w.groupId] }] }));
  const reported = (members.NetworkInterfaces ?? []).map((n) => {
    const a = n.Association;
    return `${n.Attachment?.InstanceId}:${a ? `${a.AllocationId}@${a.PublicIp}${a.AssociationId ? '+assoc' : ''}` : 'none'}`;
  });
  steps.push(`members=${normalize(reported.sort().join(','), address)}`);
  w.clock.advance(DEFAULT_READ_CACHE_SECONDS);
  await w.sync();
  record('converged', (await w.sync()).raw);
  const from = w.status.node;
  w.nodes = w.nodes.map((n) => (n.metadata.name === from ? { ...n, status: { conditions: [{ type: 'Ready', status: 'False' }] } } : n));
  record('failover', (await w.sync()).raw);
  w.ports = [443, 8443];
  record('ports', (await w.sync()).raw);
  for (let i = 0; i < 3; i++) record(`finalize${i}`, (await w.finalize()).raw);
  steps.push(`addresses=${(await w.addresses()).length} rules=${(await w.rules()).join('|')}`);
  return steps;
}

const available = motoAvailable();
if (!available.ok && !motoRequired()) {
  t.test('fake and moto agree', { skip: available.reason }, async () => {});
} else {
  t.test('fake and moto agree on every status and every mutating call', async (t) => {
    const fake = await fakePeer(t);
    const moto = await motoPeer(t);
    if ('skip' in moto) throw new Error(moto.skip);
    const onFake = await script(t, fake);
    const onMoto = await script(t, moto);
    t.equal(onFake.length, onMoto.length);
    onFake.forEach((line, i) => t.equal(onMoto[i], line, line.split(' ')[0] ?? ''));
    t.match(onFake.at(-1), /^addresses=0 rules=tcp\/22 10\.0\.0\.0\/8 bastion$/, 'both end clean but for the foreign rule');
  });
}
