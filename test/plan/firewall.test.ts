/** The firewall difference: every row of the table in src/plan/firewall.ts, ownership, and nodes. */
import t from 'tap';
import { planFirewall, type FirewallInput, type FirewallPlan } from '../../src/plan/firewall.js';
import { ALL, firewall, fwStatus, idOf, rule, target, tcp, udp } from './fixtures/plan.js';

const none = new Set<string>();
const input = (parts: Partial<FirewallInput>): FirewallInput => ({
  firewall: firewall(),
  desiredPorts: [],
  sources: [...ALL],
  siblingPorts: none,
  siblingNodes: none,
  ...parts,
});
type Want = Partial<Pick<FirewallPlan, 'addRules' | 'claims' | 'claimRules' | 'deleteRules' | 'owned'>>;

const portRows: Array<{ name: string; in: Partial<FirewallInput>; want: Want }> = [
  {
    name: 'absent, desired, not claimed (unmarked cloud) → claim only: recorded now, added by the next sync',
    in: { desiredPorts: [tcp(443)] },
    want: { addRules: [], claims: [rule(tcp(443))], claimRules: [rule(tcp(443))], deleteRules: [], owned: [] },
  },
  {
    name: 'absent, desired, claimed by the previous status → add, the claim is kept',
    in: { desiredPorts: [tcp(443)], previous: fwStatus({ addedPorts: [{ ...tcp(443), sources: [...ALL] }] }) },
    want: { addRules: [rule(tcp(443))], claims: [rule(tcp(443))], claimRules: [], deleteRules: [], owned: [] },
  },
  {
    name: 'absent, desired, the cloud marks rules (AWS, Hetzner) → add at once, the mark is written with it',
    in: { desiredPorts: [tcp(443)], firewall: firewall({ owned: [] }) },
    want: { addRules: [rule(tcp(443))], claims: [rule(tcp(443))], claimRules: [], deleteRules: [], owned: [] },
  },
  {
    name: 'one pair claimed, another new → nothing added yet (one outcome per step), both claimed',
    in: { desiredPorts: [tcp(443), tcp(80)], previous: fwStatus({ addedPorts: [{ ...tcp(443), sources: [...ALL] }] }) },
    want: { addRules: [], claims: [rule(tcp(80)), rule(tcp(443))], claimRules: [rule(tcp(80))] },
  },
  {
    name: 'absent, no longer desired, claimed → the claim is dropped, nothing to delete',
    in: { desiredPorts: [tcp(443)], previous: fwStatus({ addedPorts: [{ ...tcp(80), sources: [...ALL] }, { ...tcp(443), sources: [...ALL] }] }) },
    want: { addRules: [rule(tcp(443))], claims: [rule(tcp(443))], claimRules: [], deleteRules: [], owned: [] },
  },
  {
    name: 'covers our sources, desired, not owned → keep',
    in: { firewall: firewall({ rules: [rule(tcp(443))] }), desiredPorts: [tcp(443)] },
    want: { addRules: [], claims: [], deleteRules: [], owned: [] },
  },
  {
    name: 'covers our sources (and more), desired, owned (legacy record) → keep; only our sources owned',
    in: {
      firewall: firewall({ rules: [rule(tcp(443), ['10.0.0.0/8', ...ALL])] }),
      desiredPorts: [tcp(443)],
      previous: fwStatus({ addedPorts: [tcp(443)] }),
    },
    want: { addRules: [], claims: [], deleteRules: [], owned: [rule(tcp(443))] },
  },
  {
    name: 'lacks some of our sources, desired, not owned → claim the missing sources alone',
    in: { firewall: firewall({ rules: [rule(tcp(443), ['0.0.0.0/0'])] }), desiredPorts: [tcp(443)] },
    want: { addRules: [], claims: [rule(tcp(443), ['::/0'])], claimRules: [rule(tcp(443), ['::/0'])], deleteRules: [], owned: [] },
  },
  {
    name: 'lacks all our sources (foreign sources only), desired → claim ours, never the foreign one',
    in: { firewall: firewall({ rules: [rule(tcp(443), ['10.0.0.0/8'])] }), desiredPorts: [tcp(443)] },
    want: { addRules: [], claims: [rule(tcp(443))], claimRules: [rule(tcp(443))], deleteRules: [], owned: [] },
  },
  {
    name: 'lacks some of our sources, desired, owned → add and claim the missing one, the present one stays owned',
    in: {
      firewall: firewall({ rules: [rule(tcp(443), ['0.0.0.0/0'])] }),
      desiredPorts: [tcp(443)],
      previous: fwStatus({ addedPorts: [tcp(443)] }),
    },
    want: { addRules: [rule(tcp(443), ['::/0'])], claims: [rule(tcp(443), ['::/0'])], deleteRules: [], owned: [rule(tcp(443), ['0.0.0.0/0'])] },
  },
  {
    name: 'present, not desired, owned, no sibling → delete our sources',
    in: { firewall: firewall({ rules: [rule(tcp(80))] }), previous: fwStatus({ addedPorts: [tcp(80)] }) },
    want: { addRules: [], claims: [], deleteRules: [rule(tcp(80))], owned: [rule(tcp(80))] },
  },
  {
    name: 'present, not desired, owned, foreign sources on it too → delete only our sources',
    in: { firewall: firewall({ rules: [rule(tcp(80), ['10.0.0.0/8', '0.0.0.0/0'])] }), previous: fwStatus({ addedPorts: [tcp(80)] }) },
    want: { deleteRules: [rule(tcp(80), ['0.0.0.0/0'])], owned: [rule(tcp(80), ['0.0.0.0/0'])] },
  },
  {
    name: 'present, not desired, owned, none of our sources left → nothing owned, nothing to delete',
    in: { firewall: firewall({ rules: [rule(tcp(80), ['10.0.0.0/8'])] }), previous: fwStatus({ addedPorts: [tcp(80)] }) },
    want: { deleteRules: [], owned: [] },
  },
  {
    name: 'present, not desired, owned, sibling needs it → keep',
    in: { firewall: firewall({ rules: [rule(tcp(80))] }), previous: fwStatus({ addedPorts: [tcp(80)] }), siblingPorts: new Set(['tcp/80']) },
    want: { addRules: [], deleteRules: [], owned: [rule(tcp(80))] },
  },
  {
    name: 'sibling needs tcp/80, not udp/80 → udp/80 deleted',
    in: {
      firewall: firewall({ rules: [rule(tcp(80)), rule(udp(80))] }),
      previous: fwStatus({ addedPorts: [tcp(80), udp(80)] }),
      siblingPorts: new Set(['tcp/80']),
    },
    want: { deleteRules: [rule(udp(80))], owned: [rule(tcp(80)), rule(udp(80))] },
  },
  {
    name: 'present, not desired, not owned → keep (foreign)',
    in: { firewall: firewall({ rules: [rule(tcp(22)), rule(tcp(80))] }) },
    want: { addRules: [], claims: [], deleteRules: [], owned: [] },
  },
  {
    name: 'owned in previous status but absent from the cloud, not desired → claim dropped, nothing to delete',
    in: { firewall: firewall({ rules: [] }), previous: fwStatus({ addedPorts: [tcp(80)] }) },
    want: { deleteRules: [], owned: [], claims: [] },
  },
  {
    name: 'owned in previous status and desired again but absent → add and claim again',
    in: { firewall: firewall({ rules: [] }), desiredPorts: [tcp(80)], previous: fwStatus({ addedPorts: [tcp(80)] }) },
    want: { addRules: [rule(tcp(80))], claims: [rule(tcp(80))], owned: [] },
  },
  {
    name: 'ownership from previous status ignored when it names another firewall id',
    in: { firewall: firewall({ rules: [rule(tcp(80))] }), previous: fwStatus({ id: 'fw-old', addedPorts: [tcp(80)] }) },
    want: { deleteRules: [], owned: [] },
  },
  {
    name: 'ownership from previous status used when the id matches even if the name changed',
    in: { firewall: firewall({ rules: [rule(tcp(80))] }), previous: fwStatus({ name: 'renamed', addedPorts: [tcp(80)] }) },
    want: { deleteRules: [rule(tcp(80))], owned: [rule(tcp(80))] },
  },
  {
    name: 'cloud marks (owned) give ownership without any status',
    in: { firewall: firewall({ rules: [rule(tcp(80)), rule(tcp(22))], owned: [rule(tcp(80))] }) },
    want: { deleteRules: [rule(tcp(80))], owned: [rule(tcp(80))] },
  },
  {
    name: 'cloud marks count even when the status names another firewall',
    in: { firewall: firewall({ rules: [rule(tcp(80))], owned: [rule(tcp(80))] }), previous: fwStatus({ id: 'fw-old' }) },
    want: { deleteRules: [rule(tcp(80))], owned: [rule(tcp(80))] },
  },
  {
    name: 'cloud marks for a rule that is gone own nothing',
    in: { firewall: firewall({ rules: [], owned: [rule(tcp(80))] }) },
    want: { deleteRules: [], owned: [] },
  },
  {
    name: 'cloud marks: owned and sibling-needed → keep',
    in: { firewall: firewall({ rules: [rule(tcp(80))], owned: [rule(tcp(80))] }), siblingPorts: new Set(['tcp/80']) },
    want: { deleteRules: [], owned: [rule(tcp(80))] },
  },
  {
    name: 'only another cluster\'s marked rule holds the pair, our record claims it → never owned, never deleted',
    in: { firewall: firewall({ rules: [rule(tcp(80))], owned: [], foreignMarked: [rule(tcp(80))] }), previous: fwStatus({ addedPorts: [tcp(80)] }) },
    want: { deleteRules: [], owned: [] },
  },
  {
    name: 'another cluster\'s marked pair, desired → kept as present, not claimed, not owned',
    in: { firewall: firewall({ rules: [rule(tcp(443))], owned: [], foreignMarked: [rule(tcp(443), ['0.0.0.0/0'])] }), desiredPorts: [tcp(443)] },
    want: { addRules: [], claims: [], deleteRules: [], owned: [] },
  },
  {
    name: 'our mark and another cluster\'s on different sources of a port → only ours owned and deleted',
    in: { firewall: firewall({ rules: [rule(tcp(80))], owned: [rule(tcp(80), ['::/0'])], foreignMarked: [rule(tcp(80), ['0.0.0.0/0'])] }), previous: fwStatus({ addedPorts: [tcp(80)] }) },
    want: { deleteRules: [rule(tcp(80), ['::/0'])], owned: [rule(tcp(80), ['::/0'])] },
  },
  {
    name: 'mixed: add, keep, delete and foreign at once; owned ports sorted',
    in: {
      firewall: firewall({ rules: [rule(udp(53)), rule(tcp(80)), rule(tcp(22)), rule(tcp(8080), ['0.0.0.0/0'])] }),
      desiredPorts: [tcp(443), tcp(8080), udp(53)],
      previous: fwStatus({ addedPorts: [udp(53), tcp(80)] }),
    },
    want: {
      addRules: [],
      claims: [rule(tcp(443)), rule(tcp(8080), ['::/0'])],
      claimRules: [rule(tcp(443)), rule(tcp(8080), ['::/0'])],
      deleteRules: [rule(tcp(80))],
      owned: [rule(tcp(80)), rule(udp(53))],
    },
  },
];

for (const c of portRows) {
  t.test(`ports: ${c.name}`, async (t) => {
    const plan = planFirewall(input(c.in));
    for (const [k, v] of Object.entries(c.want)) t.same(plan[k as keyof Want], v, k);
  });
}

t.test('ports: the sources given are the only ones ever added or deleted', async (t) => {
  const plan = planFirewall(
    input({
      firewall: firewall({ rules: [rule(tcp(80), ['10.0.0.0/8', '192.168.0.0/16'])] }),
      sources: ['192.168.0.0/16'],
      desiredPorts: [tcp(443)],
      previous: fwStatus({ addedPorts: [tcp(80)] }),
    }),
  );
  t.same(plan.claims, [rule(tcp(443), ['192.168.0.0/16'])]);
  t.same(plan.deleteRules, [rule(tcp(80), ['192.168.0.0/16'])]);
});

const E = target('n2');
const S = target('n3');
interface NodeRow {
  name: string;
  in: Partial<FirewallInput>;
  addNode: string | undefined;
  deleteNodes: string[];
  ownedNodes: string[];
  /** `status.firewall.addedNodes` before this sync's claims and deletes; `ownedNodes` when omitted. */
  recordedNodes?: string[];
  claimNode?: string;
  nodeClaims?: string[];
}
const nodeRows: NodeRow[] = [
  { name: 'elected node missing, not claimed → claimed, not added', in: { elected: E }, addNode: undefined, claimNode: idOf('n2'), nodeClaims: [idOf('n2')], deleteNodes: [], ownedNodes: [] },
  {
    name: 'elected node missing, claimed by the previous status → added, the claim kept',
    in: { elected: E, previous: fwStatus({ addedNodes: [idOf('n2')] }) },
    addNode: idOf('n2'),
    nodeClaims: [idOf('n2')],
    deleteNodes: [],
    ownedNodes: [],
  },
  {
    name: 'elected node missing, the cloud marks memberships (ownedNodes) → added at once, no standby claim',
    in: { elected: E, standby: S, firewall: firewall({ ownedNodes: [] }) },
    addNode: idOf('n2'),
    nodeClaims: [idOf('n2')],
    deleteNodes: [],
    ownedNodes: [],
  },
  { name: 'elected node present → not added, never claimed', in: { elected: E, firewall: firewall({ nodes: [idOf('n2')] }) }, addNode: undefined, nodeClaims: [], deleteNodes: [], ownedNodes: [] },
  { name: 'no elected node → nothing added', in: {}, addNode: undefined, nodeClaims: [], deleteNodes: [], ownedNodes: [] },
  {
    name: 'standby absent → claimed, never added',
    in: { elected: E, standby: S, firewall: firewall({ nodes: [idOf('n2')] }), previous: fwStatus({ addedNodes: [idOf('n2')] }) },
    addNode: undefined,
    nodeClaims: [idOf('n3')],
    deleteNodes: [],
    ownedNodes: [idOf('n2')],
  },
  {
    name: 'standby present and foreign → not claimed, not touched',
    in: { elected: E, standby: S, firewall: firewall({ nodes: [idOf('n2'), idOf('n3')] }), previous: fwStatus({ addedNodes: [idOf('n2')] }) },
    addNode: undefined,
    nodeClaims: [],
    deleteNodes: [],
    ownedNodes: [idOf('n2')],
  },
  {
    name: 'standby present and ours → removed (it holds nothing), the claim kept',
    in: { elected: E, standby: S, firewall: firewall({ nodes: [idOf('n2'), idOf('n3')] }), previous: fwStatus({ addedNodes: [idOf('n2'), idOf('n3')] }) },
    addNode: undefined,
    nodeClaims: [idOf('n3')],
    deleteNodes: [idOf('n3')],
    ownedNodes: [idOf('n2'), idOf('n3')],
  },
  {
    name: 'failover: the elected node is the claimed standby → added at once',
    in: { elected: E, standby: S, firewall: firewall({ nodes: [idOf('n1')] }), previous: fwStatus({ addedNodes: [idOf('n1'), idOf('n2')] }) },
    addNode: idOf('n2'),
    nodeClaims: [idOf('n2'), idOf('n3')],
    deleteNodes: [idOf('n1')],
    ownedNodes: [idOf('n1')],
  },
  {
    name: 'a claimed absent node neither elected nor standby → claim dropped',
    in: { elected: E, standby: S, firewall: firewall({ nodes: [idOf('n2')] }), previous: fwStatus({ addedNodes: [idOf('n2'), idOf('n4')] }) },
    addNode: undefined,
    nodeClaims: [idOf('n3')],
    deleteNodes: [],
    ownedNodes: [idOf('n2')],
  },
  {
    name: 'owned non-elected node → removed',
    in: { elected: E, firewall: firewall({ nodes: [idOf('n1'), idOf('n2')] }), previous: fwStatus({ addedNodes: [idOf('n1'), idOf('n2')] }) },
    addNode: undefined,
    deleteNodes: [idOf('n1')],
    ownedNodes: [idOf('n1'), idOf('n2')],
  },
  {
    name: 'owned elected node → kept',
    in: { elected: E, firewall: firewall({ nodes: [idOf('n2')] }), previous: fwStatus({ addedNodes: [idOf('n2')] }) },
    addNode: undefined,
    deleteNodes: [],
    ownedNodes: [idOf('n2')],
  },
  {
    name: 'owned non-elected node a sibling needs → kept',
    in: {
      elected: E,
      firewall: firewall({ nodes: [idOf('n1'), idOf('n2')] }),
      previous: fwStatus({ addedNodes: [idOf('n1')] }),
      siblingNodes: new Set([idOf('n1')]),
    },
    addNode: undefined,
    deleteNodes: [],
    ownedNodes: [idOf('n1')],
  },
  {
    name: 'foreign node (not in addedNodes) → never removed',
    in: { elected: E, firewall: firewall({ nodes: [idOf('n1'), idOf('n3')] }), previous: fwStatus({ addedNodes: [] }) },
    addNode: undefined,
    claimNode: idOf('n2'),
    deleteNodes: [],
    ownedNodes: [],
  },
  {
    name: 'owned nodes from another firewall id are foreign here',
    in: { elected: E, firewall: firewall({ nodes: [idOf('n1')] }), previous: fwStatus({ id: 'fw-old', addedNodes: [idOf('n1'), idOf('n2')] }) },
    addNode: undefined,
    claimNode: idOf('n2'),
    deleteNodes: [],
    ownedNodes: [],
  },
  {
    name: 'owned node already gone from the firewall → not owned, not deleted',
    in: { elected: E, firewall: firewall({ nodes: [idOf('n2')] }), previous: fwStatus({ addedNodes: [idOf('n1')] }) },
    addNode: undefined,
    deleteNodes: [],
    ownedNodes: [],
  },
  {
    name: 'no elected node: every owned node not needed by a sibling is removable (finalize)',
    in: {
      firewall: firewall({ nodes: [idOf('n3'), idOf('n1'), idOf('n2'), idOf('n9')] }),
      previous: fwStatus({ addedNodes: [idOf('n3'), idOf('n1'), idOf('n2'), idOf('n1')] }),
      siblingNodes: new Set([idOf('n2')]),
    },
    addNode: undefined,
    nodeClaims: [],
    deleteNodes: [idOf('n1'), idOf('n3')],
    ownedNodes: [idOf('n1'), idOf('n2'), idOf('n3')],
  },
  {
    name: 'cloud node marks (ownedNodes) give ownership without any status; a mark on an absent node owns nothing',
    in: { elected: E, firewall: firewall({ nodes: [idOf('n1'), idOf('n2'), idOf('n3')], ownedNodes: [idOf('n1'), idOf('n4')] }) },
    addNode: undefined,
    deleteNodes: [idOf('n1')],
    ownedNodes: [idOf('n1')],
    recordedNodes: [],
  },
  {
    name: 'marked memberships (a shared tag): the record names the elected node, not every tagged Droplet the siblings hold',
    in: {
      elected: E,
      firewall: firewall({ nodes: [idOf('n1'), idOf('n2'), idOf('n3')], ownedNodes: [idOf('n1'), idOf('n2'), idOf('n3')] }),
      siblingNodes: new Set([idOf('n1'), idOf('n3')]),
    },
    addNode: undefined,
    deleteNodes: [],
    ownedNodes: [idOf('n1'), idOf('n2'), idOf('n3')],
    recordedNodes: [idOf('n2')],
  },
  {
    name: 'marked memberships: an old record naming the siblings\' holders narrows to the elected node and its own leftover (deleted now)',
    in: {
      elected: E,
      firewall: firewall({ nodes: [idOf('n1'), idOf('n2'), idOf('n3'), idOf('n4')], ownedNodes: [idOf('n1'), idOf('n2'), idOf('n3'), idOf('n4')] }),
      previous: fwStatus({ addedNodes: [idOf('n1'), idOf('n2'), idOf('n3'), idOf('n4')] }),
      siblingNodes: new Set([idOf('n1'), idOf('n3')]),
    },
    addNode: undefined,
    deleteNodes: [idOf('n4')],
    ownedNodes: [idOf('n1'), idOf('n2'), idOf('n3'), idOf('n4')],
    recordedNodes: [idOf('n2'), idOf('n4')],
  },
];

for (const c of nodeRows) {
  t.test(`nodes: ${c.name}`, async (t) => {
    const plan = planFirewall(input(c.in));
    t.equal(plan.addNode?.id, c.addNode, 'addNode');
    if (c.addNode === undefined) t.notOk('addNode' in plan, 'no addNode key');
    t.same(plan.deleteNodes, c.deleteNodes, 'deleteNodes');
    t.same(plan.ownedNodes, c.ownedNodes, 'ownedNodes (sorted, deduplicated)');
    t.same(plan.recordedNodes, c.recordedNodes ?? c.ownedNodes, 'recordedNodes');
    t.equal(plan.claimNode?.id, c.claimNode, 'claimNode');
    if (c.nodeClaims) t.same(plan.nodeClaims, c.nodeClaims, 'nodeClaims');
  });
}

t.test('planFirewall does not mutate its input', async (t) => {
  const fw = firewall({ rules: [rule(tcp(80))], nodes: [idOf('n1')] });
  const prev = fwStatus({ addedPorts: [tcp(80)], addedNodes: [idOf('n1')] });
  const snapshot = JSON.stringify([fw, prev]);
  planFirewall(input({ firewall: fw, previous: prev, desiredPorts: [tcp(443)], elected: E }));
  t.equal(JSON.stringify([fw, prev]), snapshot);
});

t.test('narrowing firewallSourceRanges removes the sources we added and no longer want', async (t) => {
  const narrow = ['203.0.113.0/24'];
  const plan = planFirewall(
    input({
      firewall: firewall({ rules: [rule(tcp(443), [...ALL, '10.0.0.0/8'])] }),
      desiredPorts: [tcp(443)],
      sources: narrow,
      previous: fwStatus({ addedPorts: [{ ...tcp(443), sources: [...ALL] }] }),
    }),
  );
  t.same(plan.claims, [rule(tcp(443), narrow)], 'the new source is claimed first (the sync plan halts the deletes behind it)');
  t.same(plan.deleteRules, [rule(tcp(443), ALL)], 'the world-open sources we added go; the foreign 10.0.0.0/8 stays');
  t.same(plan.owned, [rule(tcp(443), ALL)]);
});

t.test('narrowing with cloud marks only (AWS) removes the marked sources no longer wanted', async (t) => {
  const plan = planFirewall(
    input({ firewall: firewall({ rules: [rule(tcp(443), ALL)], owned: [rule(tcp(443), ALL)] }), desiredPorts: [tcp(443)], sources: ['0.0.0.0/0'] }),
  );
  t.same(plan.addRules, []);
  t.same(plan.deleteRules, [rule(tcp(443), ['::/0'])]);
});

t.test('a sibling keeps only the (port, source) pairs it wants', async (t) => {
  const base = {
    firewall: firewall({ rules: [rule(tcp(443), ['0.0.0.0/0', '::/0', '203.0.113.0/24'])] }),
    desiredPorts: [tcp(443)],
    sources: ['203.0.113.0/24'],
    previous: fwStatus({ addedPorts: [{ ...tcp(443), sources: [...ALL, '203.0.113.0/24'] }] }),
  };
  const narrowed = planFirewall(input({ ...base, siblingPorts: new Set(['tcp/443 203.0.113.0/24']) }));
  t.same(narrowed.deleteRules, [rule(tcp(443), ALL)], 'the sibling narrowed too: the old sources go');
  const wide = planFirewall(input({ ...base, siblingPorts: new Set(['tcp/443 ::/0']) }));
  t.same(wide.deleteRules, [rule(tcp(443), ['0.0.0.0/0'])], 'the sibling still wants ::/0');
  const legacy = planFirewall(input({ ...base, siblingPorts: new Set(['tcp/443']) }));
  t.same(legacy.deleteRules, [], 'a sibling record without sources needs the whole port');
});

t.test('what a sibling added is taken over when this RoutedIP wants it too, never otherwise', async (t) => {
  const fw = firewall({ rules: [rule(tcp(80)), rule(tcp(443), ['0.0.0.0/0', '10.0.0.0/8'])], nodes: [idOf('n2')] });
  const siblingAdded = [rule(tcp(80)), rule(tcp(443), ['0.0.0.0/0', '10.0.0.0/8'])];
  const plan = planFirewall(input({ firewall: fw, desiredPorts: [tcp(80), tcp(443)], siblingAdded, siblingAddedNodes: new Set([idOf('n2')]), elected: E }));
  t.same(plan.owned, [rule(tcp(80)), rule(tcp(443), ['0.0.0.0/0'])], 'only pairs with our sources on our ports');
  t.same(plan.ownedNodes, [idOf('n2')], 'the elected node a sibling added');
  t.same(plan.deleteRules, []);
  const notWanted = planFirewall(input({ firewall: fw, desiredPorts: [], siblingAdded, siblingAddedNodes: new Set([idOf('n2')]) }));
  t.same(notWanted.owned, [], 'a finalizing RoutedIP takes nothing over');
  t.same(notWanted.ownedNodes, []);
  const theirs = planFirewall(input({ firewall: { ...fw, owned: [], foreignMarked: [rule(tcp(80))] }, desiredPorts: [tcp(80), tcp(443)], siblingAdded, elected: E }));
  t.same(theirs.owned, [rule(tcp(443), ['0.0.0.0/0'])], 'a pair only another cluster\'s mark holds is never taken over');
});
