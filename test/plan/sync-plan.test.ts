/** The sync plan, scenario by scenario (PRODUCT.md "The steps, in order"). */
import t from 'tap';
import { SYNC_STEPS, type PlannedStep, type StepAction } from '../../src/plan/steps.js';
import { planSync, type SyncObservation } from '../../src/plan/sync-plan.js';
import { ALL, allActions, bad, effectiveActions, firewall, fwStatus, idOf, ok, rule, shape, target, tcp, udp, ip } from './fixtures/plan.js';

const none = new Set<string>();
const obs = (parts: Partial<SyncObservation>): SyncObservation => ({
  ownerUid: 'uid-public',
  nodes: [ok('n1'), ok('n2')],
  taken: none,
  firewallName: 'ingress-public',
  ports: [tcp(80), tcp(443)],
  sources: [...ALL],
  siblingPorts: none,
  siblingNodes: none,
  ...parts,
});
/** Firewall converged for `nodes` with our rules on tcp/80 and tcp/443, all added by us; `standby` claimed too. */
const converged = (nodes: string[], standby?: string) => ({
  firewall: firewall({ rules: [rule(tcp(80)), rule(tcp(443))], nodes: nodes.map(idOf) }),
  previousFirewall: fwStatus({
    ports: [tcp(80), tcp(443)],
    nodes: nodes.map(idOf),
    addedPorts: [tcp(80), tcp(443)],
    addedNodes: [...nodes, ...(standby !== undefined ? [standby] : [])].map(idOf).sort(),
  }),
});
/** An empty firewall, and a previous status that already claims tcp/80, tcp/443 and `nodes` (the sync after the claims). */
const claimed = (nodes: string[]) => ({
  firewall: firewall(),
  previousFirewall: fwStatus({ ports: [tcp(80), tcp(443)], addedPorts: [tcp(80), tcp(443)], addedNodes: nodes.map(idOf).sort() }),
});
const step = (steps: readonly PlannedStep[], name: string): PlannedStep => {
  const s = steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}`);
  return s;
};
const indexOfKind = (steps: readonly PlannedStep[], kind: StepAction['kind']): number => steps.findIndex((s) => s.action?.kind === kind);
const kinds = (actions: readonly StepAction[]): string[] => actions.map((a) => a.kind);

/** Every plan reports exactly the SYNC_STEPS, in order. */
const names = (steps: readonly PlannedStep[]): string[] => steps.map((s) => s.name);

t.test('FirstRound, nothing claimed yet (unmarked firewall): ports and node are claimed, nothing acts', async (t) => {
  const plan = planSync(obs({ firewall: firewall() }));
  const elected = plan.election.node!;
  const standby = elected === 'n1' ? 'n2' : 'n1';
  t.same(shape(plan.steps), [
    'FindRoutedIP:done',
    'ElectRoutedIPNode:done',
    'FindRoutedIPFirewall:done',
    'FindRoutedIPPorts:done',
    'AddRoutedIPFirewallPort:pending',
    'AddRoutedIPFirewallNode:pending',
    'CreateRoutedIP:pending',
    'AssignRoutedIP:pending',
    'DeleteRoutedIPFirewallPort:skipped',
    'DeleteRoutedIPFirewallNode:skipped',
  ]);
  t.same(allActions(plan.steps), [], 'create and assign wait behind the claims');
  t.match(step(plan.steps, 'AddRoutedIPFirewallPort'), { detail: /^recording ownership of tcp\/80 from 0\.0\.0\.0\/0,::\/0; tcp\/443 .* before adding it; the next sync adds it$/ });
  t.match(step(plan.steps, 'AddRoutedIPFirewallNode'), { detail: `recording ownership of ${elected} before adding it to the firewall; the next sync adds it` });
  t.same(plan.firewall?.claims, [rule(tcp(80)), rule(tcp(443))]);
  t.same(plan.firewall?.nodeClaims, [idOf(elected), idOf(standby)].sort(), 'the elected node and the standby');
});

t.test('FirstRound on a firewall that marks rules (AWS): ports added at once, the node claimed', async (t) => {
  const plan = planSync(obs({ firewall: firewall({ owned: [] }) }));
  t.same(kinds(effectiveActions(plan.steps)), ['addPorts']);
  t.match(step(plan.steps, 'AddRoutedIPFirewallNode'), { outcome: 'pending' });
  const marked = planSync(obs({ firewall: firewall({ owned: [], ownedNodes: [] }) }));
  t.same(kinds(effectiveActions(marked.steps)), ['addPorts', 'addNode', 'create', 'assign'], 'rules and memberships marked: as before claims');
  t.same(marked.firewall?.nodeClaims, [idOf(marked.election.node!)], 'no standby claim where memberships carry marks');
});

t.test('FirstRound after the claims: no IP, firewall empty → add ports, add node, create, assign', async (t) => {
  const plan = planSync(obs({ ...claimed(['n1', 'n2']) }));
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  const elected = plan.election.node!;
  t.ok(['n1', 'n2'].includes(elected));
  t.equal(plan.election.reason, 'fresh');
  t.same(shape(plan.steps), [
    'FindRoutedIP:done',
    'ElectRoutedIPNode:done',
    'FindRoutedIPFirewall:done',
    'FindRoutedIPPorts:done',
    'AddRoutedIPFirewallPort:act addPorts',
    'AddRoutedIPFirewallNode:act addNode',
    'CreateRoutedIP:act create',
    'AssignRoutedIP:act assign',
    'DeleteRoutedIPFirewallPort:skipped',
    'DeleteRoutedIPFirewallNode:skipped',
  ]);
  t.same(step(plan.steps, 'AddRoutedIPFirewallPort').action, { kind: 'addPorts', rules: [rule(tcp(80)), rule(tcp(443))] });
  t.same(step(plan.steps, 'AddRoutedIPFirewallNode').action, { kind: 'addNode', node: target(elected) });
  t.same(step(plan.steps, 'CreateRoutedIP').action, { kind: 'create', node: target(elected) });
  t.same(step(plan.steps, 'AssignRoutedIP').action, { kind: 'assign', node: target(elected) });
  t.same(plan.firewall?.claims, [rule(tcp(80)), rule(tcp(443))]);
  t.equal(plan.holder, undefined);
  t.match(step(plan.steps, 'FindRoutedIP'), { outcome: 'done', detail: 'no address yet' });
  t.match(step(plan.steps, 'FindRoutedIPPorts'), { outcome: 'done', detail: 'tcp/80,tcp/443' });
});

t.test('create is placed after AddRoutedIPFirewallNode and before AssignRoutedIP', async (t) => {
  const plan = planSync(obs({ ...claimed(['n1', 'n2']) }));
  const idx = (name: string) => plan.steps.findIndex((s) => s.name === name);
  t.ok(idx('AddRoutedIPFirewallPort') < idx('CreateRoutedIP'));
  t.ok(idx('AddRoutedIPFirewallNode') < idx('CreateRoutedIP'));
  t.ok(idx('CreateRoutedIP') < idx('AssignRoutedIP'));
  t.ok(indexOfKind(plan.steps, 'addNode') < indexOfKind(plan.steps, 'create'));
  t.ok(indexOfKind(plan.steps, 'create') < indexOfKind(plan.steps, 'assign'));
});

t.test('SecondRound: a converged observation yields no step with an action (idempotent)', async (t) => {
  const elected = planSync(obs({ firewall: firewall() })).election.node!;
  const o = obs({ ip: ip(elected), previousElected: elected, ...converged([elected]) });
  const plan = planSync(o);
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  t.same(allActions(plan.steps), [], 'no action at all, halted or not');
  for (const s of plan.steps) t.ok(s.action === undefined && (s.outcome === 'done' || s.outcome === 'skipped'), `${s.name}: ${s.action ? 'acts' : s.outcome}`);
  t.same(plan.election, { node: elected, reason: 'holder' });
  t.equal(plan.holder, elected);
  t.match(step(plan.steps, 'AssignRoutedIP'), { outcome: 'skipped', detail: `already on ${elected}` });
  t.match(step(plan.steps, 'CreateRoutedIP'), { outcome: 'skipped', detail: 'address exists' });
  t.same(planSync(o), plan, 'the same observation gives the same plan');
});

t.test('SecondRound without firewall management: nothing acts', async (t) => {
  const { firewallName: _n, ...rest } = obs({ ip: ip('n1'), previousElected: 'n1' });
  const plan = planSync(rest);
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  t.same(allActions(plan.steps), []);
  t.equal(plan.firewall, undefined);
  t.match(step(plan.steps, 'FindRoutedIPFirewall'), { outcome: 'skipped' });
});

t.test('no firewall management: create and assign directly, firewall steps skipped', async (t) => {
  const { firewallName: _n, ...rest } = obs({ nodes: [ok('n1')] });
  const plan = planSync(rest);
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  t.same(shape(plan.steps), [
    'FindRoutedIP:done',
    'ElectRoutedIPNode:done',
    'FindRoutedIPFirewall:skipped',
    'FindRoutedIPPorts:done',
    'AddRoutedIPFirewallPort:skipped',
    'AddRoutedIPFirewallNode:skipped',
    'CreateRoutedIP:act create',
    'AssignRoutedIP:act assign',
    'DeleteRoutedIPFirewallPort:skipped',
    'DeleteRoutedIPFirewallNode:skipped',
  ]);
  t.same(kinds(effectiveActions(plan.steps)), ['create', 'assign']);
});

t.test('the standby is claimed while all is well, and only then', async (t) => {
  const steady = planSync(obs({ nodes: [ok('n1'), ok('n2'), ok('n3')], ip: ip('n1'), previousElected: 'n1', ...converged(['n1']) }));
  t.same(allActions(steady.steps), [], 'claiming the standby acts on nothing');
  const standby = steady.firewall!.nodeClaims;
  t.equal(standby.length, 1);
  const lost = planSync(obs({ nodes: [bad('n1'), ok('n2'), ok('n3')], ip: ip('n1'), previousElected: 'n1', ...converged(['n1']) }));
  t.same([idOf(lost.election.node!)], standby, 'the standby is the node the failover elects');
});

t.test('NodeLost: holder NotReady, n2 the claimed standby → AddNode(n2), Assign(n2), DeleteNode(n1), in that order (one sync)', async (t) => {
  const plan = planSync(obs({ nodes: [bad('n1'), ok('n2')], ip: ip('n1'), previousElected: 'n1', ...converged(['n1'], 'n2') }));
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  t.same(plan.election, { node: 'n2', reason: 'fresh' });
  t.equal(plan.holder, 'n1');
  t.same(effectiveActions(plan.steps), [
    { kind: 'addNode', node: target('n2') },
    { kind: 'assign', node: target('n2') },
    { kind: 'deleteNodes', ids: [idOf('n1')] },
  ]);
  t.match(step(plan.steps, 'FindRoutedIP'), { detail: 'found 203.0.113.10 on n1' });
  t.match(step(plan.steps, 'CreateRoutedIP'), { outcome: 'skipped' });
  t.match(step(plan.steps, 'DeleteRoutedIPFirewallPort'), { outcome: 'skipped' });
});

t.test('NodeLost, the standby not claimed (it changed after the parent this sync sees): the claim costs one more sync', async (t) => {
  const plan = planSync(obs({ nodes: [bad('n1'), ok('n2')], ip: ip('n1'), previousElected: 'n1', ...converged(['n1']) }));
  t.same(effectiveActions(plan.steps), [], 'no add before the claim is written');
  t.match(step(plan.steps, 'AddRoutedIPFirewallNode'), { outcome: 'pending', detail: /^recording ownership of n2/ });
  t.same(plan.firewall?.nodeClaims, [idOf('n2')]);
});

t.test('NodeLost: the lost node is kept when a sibling needs it, and never removed when foreign', async (t) => {
  const base = { nodes: [bad('n1'), ok('n2')], ip: ip('n1'), previousElected: 'n1', ...converged(['n1'], 'n2') };
  const sibling = planSync(obs({ ...base, siblingNodes: new Set([idOf('n1')]) }));
  t.same(kinds(effectiveActions(sibling.steps)), ['addNode', 'assign']);
  const foreign = planSync(obs({ ...base, previousFirewall: fwStatus({ addedPorts: [tcp(80), tcp(443)], addedNodes: [idOf('n2')] }) }));
  t.same(kinds(effectiveActions(foreign.steps)), ['addNode', 'assign']);
});

t.test('NodeLost with the holder node deleted from the cluster: the IP still moves', async (t) => {
  const plan = planSync(obs({ nodes: [ok('n2')], ip: ip('n1'), previousElected: 'n1', ...converged(['n1'], 'n2') }));
  t.equal(plan.holder, undefined, 'holder id names no known node');
  t.match(step(plan.steps, 'FindRoutedIP'), { detail: `found 203.0.113.10 on ${idOf('n1')}` });
  t.same(effectiveActions(plan.steps), [
    { kind: 'addNode', node: target('n2') },
    { kind: 'assign', node: target('n2') },
    { kind: 'deleteNodes', ids: [idOf('n1')] },
  ]);
});

t.test('a move in progress: Assign pending, deletes not acting', async (t) => {
  const o = obs({
    nodes: [bad('n1'), ok('n2')],
    ip: ip('n1', { pendingAction: { id: 'a-1', type: 'assign', target: idOf('n2') } }),
    previousElected: 'n2',
    firewall: firewall({ rules: [rule(tcp(80)), rule(tcp(443))], nodes: [idOf('n1'), idOf('n2')] }),
    previousFirewall: fwStatus({ addedPorts: [tcp(80), tcp(443)], addedNodes: [idOf('n1'), idOf('n2')] }),
  });
  const plan = planSync(o);
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  t.same(plan.election, { node: 'n2', reason: 'previous' });
  t.match(step(plan.steps, 'AssignRoutedIP'), { outcome: 'pending', detail: 'action a-1 (assign) in progress' });
  t.same(effectiveActions(plan.steps), [], 'nothing runs while the move is in progress');
  const assignAt = plan.steps.findIndex((s) => s.name === 'AssignRoutedIP');
  for (const s of plan.steps.slice(assignAt + 1)) t.ok(s.action === undefined || !effectiveActions(plan.steps).includes(s.action), `${s.name} does not act`);
});

t.test('a pending action on the elected holder: Assign pending, not skipped', async (t) => {
  const plan = planSync(obs({ ip: ip('n1', { pendingAction: { id: 'a-2', type: 'create' } }), previousElected: 'n1', ...converged(['n1']) }));
  t.match(step(plan.steps, 'AssignRoutedIP'), { outcome: 'pending' });
  t.same(effectiveActions(plan.steps), []);
});

t.test('a pending action still lets earlier firewall additions run (they are safe)', async (t) => {
  const plan = planSync(obs({ nodes: [bad('n1'), ok('n2')], ip: ip('n1', { pendingAction: { id: 'a-3', type: 'assign', target: idOf('n2') } }), previousElected: 'n2', ...claimed(['n2']) }));
  t.same(kinds(effectiveActions(plan.steps)), ['addPorts', 'addNode']);
});

t.test('PortRemoved: the port no longer served is deleted, only that one', async (t) => {
  const plan = planSync(obs({ ip: ip('n1'), previousElected: 'n1', ports: [tcp(443)], ...converged(['n1']) }));
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  t.same(effectiveActions(plan.steps), [{ kind: 'deletePorts', rules: [rule(tcp(80))] }]);
  t.match(step(plan.steps, 'FindRoutedIPPorts'), { detail: 'tcp/443' });
});

t.test('PortRemoved: kept when a sibling needs it or when it is not ours', async (t) => {
  const base = { ip: ip('n1'), previousElected: 'n1', ports: [tcp(443)], ...converged(['n1']) };
  t.same(effectiveActions(planSync(obs({ ...base, siblingPorts: new Set(['tcp/80']) })).steps), []);
  t.same(effectiveActions(planSync(obs({ ...base, previousFirewall: fwStatus({ addedPorts: [tcp(443)], addedNodes: [idOf('n1')] }) })).steps), []);
});

t.test('every port removed (no ready endpoint ports): owned ports deleted, detail says so', async (t) => {
  const plan = planSync(obs({ ip: ip('n1'), previousElected: 'n1', ports: [], ...converged(['n1']) }));
  t.match(step(plan.steps, 'FindRoutedIPPorts'), { detail: 'no ready endpoint ports' });
  t.same(effectiveActions(plan.steps), [{ kind: 'deletePorts', rules: [rule(tcp(80)), rule(tcp(443))] }]);
});

t.test('ForeignRulesUntouched: foreign rules and nodes are neither deleted nor claimed', async (t) => {
  const fw = firewall({ rules: [rule(tcp(22), ['10.0.0.0/8']), rule(tcp(80)), rule(udp(53))], nodes: [idOf('x1'), idOf('x2')] });
  const first = planSync(obs({ nodes: [ok('n1')], firewall: fw }));
  t.same(effectiveActions(first.steps), [], 'the first sync claims');
  t.same(first.firewall?.claims, [rule(tcp(443))], 'tcp/80 was already open: not claimed');
  t.same(first.firewall?.nodeClaims, [idOf('n1')], 'foreign nodes never claimed');
  const plan = planSync(obs({ nodes: [ok('n1')], firewall: fw, previousFirewall: fwStatus({ addedPorts: first.firewall!.claims.map((r) => ({ ...r, sources: [...r.sources] })), addedNodes: first.firewall!.nodeClaims }) }));
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  t.same(effectiveActions(plan.steps), [
    { kind: 'addPorts', rules: [rule(tcp(443))] },
    { kind: 'addNode', node: target('n1') },
    { kind: 'create', node: target('n1') },
    { kind: 'assign', node: target('n1') },
  ]);
  t.same(plan.firewall?.claims, [rule(tcp(443))], 'tcp/80 was already open: not claimed');
  t.same(plan.firewall?.owned, []);
  t.same(plan.firewall?.deleteRules, []);
  t.same(plan.firewall?.deleteNodes, []);
});

t.test('ForeignRulesUntouched: stale status for another firewall id owns nothing here', async (t) => {
  const fw = firewall({ id: 'fw-new', rules: [rule(tcp(80)), rule(tcp(443)), rule(tcp(8080))], nodes: [idOf('n1'), idOf('old')] });
  const plan = planSync(obs({ nodes: [ok('n1')], ip: ip('n1'), firewall: fw, previousFirewall: fwStatus({ id: 'fw-1', addedPorts: [tcp(8080)], addedNodes: [idOf('old')] }) }));
  t.same(allActions(plan.steps), []);
});

t.test('FirewallNotFound: no create, no assign, nothing else acts', async (t) => {
  for (const current of [undefined, ip('n1')]) {
    const plan = planSync(obs({ nodes: [ok('n1')], ...(current ? { ip: current } : {}) }));
    t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
    t.match(step(plan.steps, 'FindRoutedIPFirewall'), { outcome: 'failed', detail: 'FirewallNotFound: no firewall named ingress-public' });
    t.same(effectiveActions(plan.steps), [], `${current ? 'with' : 'without'} an IP: nothing is executed`);
    t.equal(plan.firewall, undefined);
    for (const name of ['AddRoutedIPFirewallPort', 'AddRoutedIPFirewallNode', 'DeleteRoutedIPFirewallPort', 'DeleteRoutedIPFirewallNode']) {
      t.match(step(plan.steps, name), { outcome: 'skipped', detail: 'no firewall' });
    }
  }
});

t.test('NoEligibleNode: the IP stays where it is', async (t) => {
  const plan = planSync(obs({ nodes: [bad('n1', 'not Ready'), bad('n2', 'unschedulable')], ip: ip('n1'), previousElected: 'n1', ...converged(['n1']) }));
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  t.same(plan.election, { reason: 'none' });
  t.match(step(plan.steps, 'ElectRoutedIPNode'), { outcome: 'failed', detail: 'NoEligibleNode: n1: not Ready; n2: unschedulable' });
  t.match(step(plan.steps, 'CreateRoutedIP'), { outcome: 'skipped' });
  t.match(step(plan.steps, 'AssignRoutedIP'), { outcome: 'pending' });
  t.same(effectiveActions(plan.steps), [], 'no move, no firewall change');
  t.notOk(allActions(plan.steps).some((a) => a.kind === 'assign' || a.kind === 'create' || a.kind === 'addNode'));
});

t.test('NoEligibleNode without an IP: nothing is created', async (t) => {
  const plan = planSync(obs({ nodes: [bad('n1')], firewall: firewall() }));
  t.match(step(plan.steps, 'CreateRoutedIP'), { outcome: 'pending', detail: 'waiting for an eligible node' });
  t.same(effectiveActions(plan.steps), []);
  t.notOk(allActions(plan.steps).some((a) => a.kind === 'create' || a.kind === 'assign'));
});

t.test('NoEligibleNode with no nodes at all', async (t) => {
  const plan = planSync(obs({ nodes: [], firewall: firewall() }));
  t.same(names(plan.steps), [...SYNC_STEPS], 'step names are SYNC_STEPS in order');
  t.match(step(plan.steps, 'ElectRoutedIPNode'), { outcome: 'failed', detail: 'NoEligibleNode: no candidate nodes' });
  t.match(step(plan.steps, 'AddRoutedIPFirewallNode'), { outcome: 'skipped', detail: 'no elected node' });
});

t.test('unassigned IP: assign to the elected node', async (t) => {
  const plan = planSync(obs({ nodes: [ok('n1')], ip: ip(), ...converged(['n1']) }));
  t.match(step(plan.steps, 'FindRoutedIP'), { detail: 'found 203.0.113.10, unassigned' });
  t.same(effectiveActions(plan.steps), [{ kind: 'assign', node: target('n1') }]);
});

t.test('sticky: an eligible holder keeps the IP even if another node was elected before', async (t) => {
  const plan = planSync(obs({ ip: ip('n1'), previousElected: 'n2', ...converged(['n1']) }));
  t.same(plan.election, { node: 'n1', reason: 'holder' });
  t.same(effectiveActions(plan.steps), []);
});

t.test('taken: a fresh choice avoids nodes other RoutedIPs hold', async (t) => {
  for (const taken of ['n1', 'n2']) {
    const plan = planSync(obs({ firewall: firewall(), taken: new Set([taken]) }));
    t.equal(plan.election.node, taken === 'n1' ? 'n2' : 'n1');
  }
});

t.test('the election uses the observation only: same inputs, same plan', async (t) => {
  const o = obs({ nodes: [ok('a'), ok('b'), ok('c')], firewall: firewall() });
  t.same(planSync(o), planSync({ ...o, nodes: [...o.nodes] }));
  t.equal(JSON.stringify(planSync(o)), JSON.stringify(planSync(o)));
});

t.test('unmarked clouds (create intent): record first, create on the next sync, wait out a create that may land', async (t) => {
  const SINCE = '2026-11-23T12:00:00Z';
  const now = (seconds: number) => Date.parse(SINCE) + seconds * 1000;
  const recorded = (node: string, parts: Record<string, unknown> = {}) => ({ node, target: idOf(node), since: SINCE, knownAddresses: [], ...parts });
  const base = { ...converged(['n1', 'n2']), nodes: [ok('n1'), ok('n2')] };

  const first = planSync(obs({ ...base, createIntent: { now: now(0) } }));
  t.match(step(first.steps, 'CreateRoutedIP'), { outcome: 'pending', detail: /recording the intent/ });
  t.notOk(first.steps.some((s) => s.action?.kind === 'create' || s.action?.kind === 'assign'), 'no create before the intent is in status');
  t.same(first.createIntent, { kind: 'record', node: target(first.election.node!) });

  const elected = first.election.node!;
  const next = planSync(obs({ ...base, previousElected: elected, createIntent: { recorded: recorded(elected), now: now(1) } }));
  t.same(step(next.steps, 'CreateRoutedIP').action, { kind: 'create', node: target(elected) }, 'an open intent on the elected node creates there');
  t.same(next.createIntent, { kind: 'keep' });

  const other = elected === 'n1' ? 'n2' : 'n1';
  const moved = planSync(obs({ ...base, previousElected: other, createIntent: { recorded: recorded(elected), now: now(1) } }));
  t.match(step(moved.steps, 'CreateRoutedIP'), { outcome: 'pending', detail: /may still land until 2026-11-23T12:01:30Z/ }, 'another node elected: wait, never a second create elsewhere');
  t.same(moved.createIntent, { kind: 'keep' });

  const expired = planSync(obs({ ...base, previousElected: other, createIntent: { recorded: recorded(elected), now: now(90) } }));
  t.same(expired.createIntent, { kind: 'record', node: target(other) }, 'expired: a new intent for the node elected now');

  const found = planSync(obs({ ...base, ip: ip(elected), previousElected: elected, createIntent: { recorded: recorded(elected), now: now(1) } }));
  t.match(step(found.steps, 'CreateRoutedIP'), { outcome: 'skipped', detail: 'address exists' });
  t.equal(found.createIntent, undefined, 'the address is the record now: the intent goes');

  const foreign = planSync(obs({ ...base, previousElected: elected, occupied: new Set([elected]), createIntent: { recorded: recorded(elected), now: now(1) } }));
  t.same(foreign.createIntent, { kind: 'record', node: target(other) }, 'its droplet took someone else\'s address: choose again at once (DropletHoldsReservedIP is never a dead end)');
  t.equal(foreign.election.node, other);

  const all = planSync(obs({ ...base, occupied: new Set(['n1', 'n2']), createIntent: { now: now(0) } }));
  t.match(step(all.steps, 'ElectRoutedIPNode'), { outcome: 'failed', detail: /^EveryNodeHoldsAnAddress/ });
  t.equal(all.createIntent, undefined);
});

t.test('unmarked clouds: of two sibling intents on one droplet only the older creates, the younger chooses again', async (t) => {
  const SINCE = '2026-11-23T12:00:00Z';
  const base = { ...converged(['n1', 'n2']), nodes: [ok('n1'), ok('n2')], previousElected: 'n1' };
  const mine = { node: 'n1', target: idOf('n1'), since: SINCE, knownAddresses: [] };
  const older = [{ uid: 'uid-aaa', node: 'n1', since: SINCE }];
  const younger = [{ uid: 'uid-zzz', node: 'n1', since: SINCE }];
  const yielding = planSync(obs({ ...base, createIntent: { recorded: mine, now: Date.parse(SINCE) }, siblingIntents: older }));
  t.same(yielding.createIntent, { kind: 'record', node: target('n2') }, 'uid-public is younger than uid-aaa on the same second');
  t.notOk(yielding.steps.some((s) => s.action?.kind === 'create'));
  const keeping = planSync(obs({ ...base, createIntent: { recorded: mine, now: Date.parse(SINCE) }, siblingIntents: younger }));
  t.same(step(keeping.steps, 'CreateRoutedIP').action, { kind: 'create', node: target('n1') }, 'the older intent creates');
  const fresh = planSync(obs({ ...base, previousElected: undefined, createIntent: { now: Date.parse(SINCE) }, siblingIntents: younger }));
  t.same(fresh.createIntent, { kind: 'record', node: target('n2') }, 'a new intent avoids every sibling intent');
  const addressed = planSync(obs({ ...base, ip: ip('n1'), createIntent: { now: Date.parse(SINCE) }, siblingIntents: older }));
  t.equal(addressed.election.node, 'n1', 'with an address, sibling intents do not move it');
});
