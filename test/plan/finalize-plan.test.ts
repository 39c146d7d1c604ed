/** The finalize plan (reclaim policy Delete): created vs adopted, pending, firewall, siblings, clean. */
import t from 'tap';
import { planFinalize, type FinalizeObservation } from '../../src/plan/finalize-plan.js';
import { FINALIZE_STEPS, type PlannedStep } from '../../src/plan/steps.js';
import { ALL, effectiveActions, firewall, fwStatus, idOf, rule, shape, tcp, udp, ip } from './fixtures/plan.js';

const none = new Set<string>();
const obs = (parts: Partial<FinalizeObservation>): FinalizeObservation => ({
  adopted: false,
  firewallName: 'ingress-public',
  sources: [...ALL],
  siblingPorts: none,
  siblingNodes: none,
  ...parts,
});
const ours = {
  firewall: firewall({ rules: [rule(tcp(80)), rule(tcp(443)), rule(tcp(22), ['10.0.0.0/8'])], nodes: [idOf('n1'), idOf('n2'), idOf('x')] }),
  previousFirewall: fwStatus({ addedPorts: [tcp(80), tcp(443)], addedNodes: [idOf('n1'), idOf('n2')] }),
};
const step = (steps: readonly PlannedStep[], name: string) => steps.find((s) => s.name === name)!;
const names = (steps: readonly PlannedStep[]) => steps.map((s) => s.name);

const ipCases: Array<{ name: string; in: Partial<FinalizeObservation>; step: string; action?: unknown; clean: boolean }> = [
  {
    name: 'created IP on a node → unassign and release',
    in: { ip: ip('n1') },
    step: 'DeleteRoutedIP:act delete',
    action: { kind: 'delete', unassign: true, release: true },
    clean: false,
  },
  {
    name: 'created IP unassigned → release only',
    in: { ip: ip() },
    step: 'DeleteRoutedIP:act delete',
    action: { kind: 'delete', unassign: false, release: true },
    clean: false,
  },
  {
    name: 'adopted IP on a node → unassign only, never release',
    in: { ip: ip('n1'), adopted: true },
    step: 'DeleteRoutedIP:act delete',
    action: { kind: 'delete', unassign: true, release: false },
    clean: false,
  },
  { name: 'adopted IP unassigned → kept, nothing to do', in: { ip: ip(), adopted: true }, step: 'DeleteRoutedIP:skipped', clean: true },
  { name: 'no IP → skipped', in: {}, step: 'DeleteRoutedIP:skipped', clean: true },
  { name: 'no IP, adopted → skipped', in: { adopted: true }, step: 'DeleteRoutedIP:skipped', clean: true },
  {
    name: 'action in progress on a created IP → pending',
    in: { ip: ip('n1', { pendingAction: { id: 'a-1', type: 'unassign' } }) },
    step: 'DeleteRoutedIP:pending',
    clean: false,
  },
  {
    name: 'action in progress on an adopted, unassigned IP → pending',
    in: { ip: ip(undefined, { pendingAction: { id: 'a-1', type: 'unassign' } }), adopted: true },
    step: 'DeleteRoutedIP:pending',
    clean: false,
  },
];

for (const c of ipCases) {
  for (const managed of [false, true]) {
    t.test(`${c.name}${managed ? ' (firewall managed, nothing owned)' : ' (no firewall)'}`, async (t) => {
      const o = managed ? obs({ ...c.in, firewall: firewall({ rules: [rule(tcp(22))], nodes: [idOf('x')] }) }) : obs({ ...c.in, firewallName: undefined });
      const plan = planFinalize(o);
      t.same(names(plan.steps), [...FINALIZE_STEPS]);
      t.equal(shape(plan.steps)[2], c.step);
      if (c.action) t.same(step(plan.steps, 'DeleteRoutedIP').action, c.action);
      t.equal(plan.clean, c.clean, 'clean');
      t.match(step(plan.steps, 'DeleteRoutedIPFirewallPort'), { outcome: 'skipped' });
      t.match(step(plan.steps, 'DeleteRoutedIPFirewallNode'), { outcome: 'skipped' });
    });
  }
}

t.test('DeleteRoutedIP details name the address and what happens to it', async (t) => {
  t.match(step(planFinalize(obs({ ip: ip('n1') })).steps, 'DeleteRoutedIP').detail, 'unassign and release 203.0.113.10');
  t.match(step(planFinalize(obs({ ip: ip('n1'), adopted: true })).steps, 'DeleteRoutedIP').detail, 'unassign adopted 203.0.113.10');
  t.match(step(planFinalize(obs({ ip: ip() })).steps, 'DeleteRoutedIP').detail, 'release 203.0.113.10');
  t.match(step(planFinalize(obs({ ip: ip(), adopted: true })).steps, 'DeleteRoutedIP').detail, 'adopted 203.0.113.10 is unassigned and kept');
  t.match(step(planFinalize(obs({ ip: ip('n1', { pendingAction: { id: 'a-9', type: 'assign' } }) })).steps, 'DeleteRoutedIP').detail, 'action a-9 (assign) in progress');
});

t.test('owned rules and nodes are removed, foreign ones kept; the IP goes first', async (t) => {
  const plan = planFinalize(obs({ ip: ip('n1'), ...ours }));
  t.same(names(plan.steps), [...FINALIZE_STEPS]);
  t.same(effectiveActions(plan.steps), [
    { kind: 'delete', unassign: true, release: true },
    { kind: 'deletePorts', rules: [rule(tcp(80)), rule(tcp(443))] },
    { kind: 'deleteNodes', ids: [idOf('n1'), idOf('n2')] },
  ]);
  t.equal(plan.clean, false);
});

t.test('adopted IP: firewall entries this RoutedIP added are removed as well', async (t) => {
  const plan = planFinalize(obs({ ip: ip('n1'), adopted: true, ...ours }));
  t.same(
    effectiveActions(plan.steps).map((a) => a.kind),
    ['delete', 'deletePorts', 'deleteNodes'],
  );
});

t.test('sibling-needed entries are kept', async (t) => {
  const plan = planFinalize(obs({ ...ours, siblingPorts: new Set(['tcp/80']), siblingNodes: new Set([idOf('n1')]) }));
  t.same(effectiveActions(plan.steps), [
    { kind: 'deletePorts', rules: [rule(tcp(443))] },
    { kind: 'deleteNodes', ids: [idOf('n2')] },
  ]);
  const all = planFinalize(obs({
    ...ours,
    siblingPorts: new Set(['tcp/80', 'tcp/443']),
    siblingNodes: new Set([idOf('n1'), idOf('n2')]),
    siblingAdded: [rule(tcp(80)), rule(tcp(443))],
    siblingAddedNodes: new Set([idOf('n1'), idOf('n2')]),
  }));
  t.same(effectiveActions(all.steps), []);
  t.equal(all.clean, true, 'what siblings need and have taken over is theirs now: nothing of ours is left to remove');
  t.match(step(all.steps, 'DeleteRoutedIPFirewallPort'), { outcome: 'skipped', detail: 'nothing owned left' });
});

t.test('only our sources are removed from a shared rule', async (t) => {
  const plan = planFinalize(
    obs({ firewall: firewall({ rules: [rule(udp(53), ['10.0.0.0/8', '0.0.0.0/0'])] }), previousFirewall: fwStatus({ addedPorts: [udp(53)] }) }),
  );
  t.same(effectiveActions(plan.steps), [{ kind: 'deletePorts', rules: [rule(udp(53), ['0.0.0.0/0'])] }]);
});

t.test('cloud marks give ownership at finalize too', async (t) => {
  const plan = planFinalize(obs({ firewall: firewall({ rules: [rule(tcp(80)), rule(tcp(22))], owned: [rule(tcp(80))] }) }));
  t.same(effectiveActions(plan.steps), [{ kind: 'deletePorts', rules: [rule(tcp(80))] }]);
});

t.test('a claimed pair only another cluster\'s marked rule holds is left, and the finalize is clean', async (t) => {
  const plan = planFinalize(
    obs({ firewall: firewall({ rules: [rule(tcp(80)), rule(tcp(443))], owned: [rule(tcp(443))], foreignMarked: [rule(tcp(80))] }), previousFirewall: fwStatus({ addedPorts: [tcp(80), tcp(443)] }) }),
  );
  t.same(effectiveActions(plan.steps), [{ kind: 'deletePorts', rules: [rule(tcp(443))] }], 'only our own pair is deleted');
  const after = planFinalize(obs({ firewall: firewall({ rules: [rule(tcp(80))], owned: [], foreignMarked: [rule(tcp(80))] }), previousFirewall: fwStatus({ addedPorts: [tcp(80)] }) }));
  t.same(effectiveActions(after.steps), []);
  t.equal(after.clean, true, 'never waits on a rule it may not remove');
});

t.test('status for another firewall id owns nothing here', async (t) => {
  const plan = planFinalize(obs({ ...ours, previousFirewall: fwStatus({ id: 'fw-old', addedPorts: [tcp(80)], addedNodes: [idOf('n1')] }) }));
  t.same(effectiveActions(plan.steps), []);
  t.equal(plan.clean, true);
});

t.test('firewall named but absent: nothing to remove, firewall steps skipped', async (t) => {
  const plan = planFinalize(obs({ ip: ip(), previousFirewall: ours.previousFirewall }));
  t.same(shape(plan.steps), [
    'FindRoutedIP:done',
    'FindRoutedIPFirewall:skipped',
    'DeleteRoutedIP:act delete',
    'DeleteRoutedIPFirewallPort:skipped',
    'DeleteRoutedIPFirewallNode:skipped',
  ]);
  t.match(step(plan.steps, 'FindRoutedIPFirewall'), { detail: 'no firewall named ingress-public: nothing to remove' });
  t.equal(planFinalize(obs({ previousFirewall: ours.previousFirewall })).clean, true, 'and clean once the IP is gone');
});

t.test('pending action: the firewall waits (deletes do not run while the IP is busy)', async (t) => {
  const plan = planFinalize(obs({ ip: ip('n1', { pendingAction: { id: 'a-1', type: 'unassign' } }), ...ours }));
  t.same(effectiveActions(plan.steps), []);
  t.equal(plan.clean, false);
});

t.test('clean only when nothing acts or waits', async (t) => {
  const cleanCase = planFinalize(obs({ ...ours, firewall: firewall({ rules: [rule(tcp(22))], nodes: [idOf('x')] }) }));
  t.equal(cleanCase.clean, true);
  t.ok(cleanCase.steps.every((s) => s.action === undefined && s.outcome !== 'pending' && s.outcome !== 'failed'));
  t.equal(planFinalize(obs({ ...ours })).clean, false, 'owned entries left → not clean');
  t.equal(planFinalize(obs({ ip: ip() })).clean, false, 'IP left → not clean');
  t.equal(planFinalize(obs({ firewallName: undefined })).clean, true, 'nothing at all → clean');
});

t.test('FindRoutedIP / FindRoutedIPFirewall details', async (t) => {
  const plan = planFinalize(obs({ ip: ip('n1'), ...ours }));
  t.match(step(plan.steps, 'FindRoutedIP'), { outcome: 'done', detail: 'found 203.0.113.10' });
  t.match(step(plan.steps, 'FindRoutedIPFirewall'), { outcome: 'done', detail: 'ingress-public (fw-1)' });
  t.match(step(planFinalize(obs({ firewallName: undefined })).steps, 'FindRoutedIPFirewall'), { outcome: 'skipped' });
  t.match(step(planFinalize(obs({})).steps, 'FindRoutedIP'), { detail: 'no address' });
});

t.test('entries left for a sibling are handed over: finalize waits until a sibling records them (issue 12 item 6c)', async (t) => {
  const needs = { siblingPorts: new Set(['tcp/443']), siblingNodes: new Set([idOf('n2')]) };
  const waiting = planFinalize(obs({ ...ours, ...needs }));
  t.same(waiting.handover, { rules: [rule(tcp(443))], nodes: [idOf('n2')] }, 'tcp/443 and n2 would be nobody\'s');
  t.equal(waiting.clean, false, 'not finalized while they would be nobody\'s');
  t.same(step(waiting.steps, 'DeleteRoutedIPFirewallPort').action, { kind: 'deletePorts', rules: [rule(tcp(80))] }, 'the rest is still removed');

  const cleaned = { ...ours, firewall: firewall({ rules: [rule(tcp(443)), rule(tcp(22), ['10.0.0.0/8'])], nodes: [idOf('n2'), idOf('x')] }) };
  const still = planFinalize(obs({ ...cleaned, ...needs }));
  t.match(step(still.steps, 'DeleteRoutedIPFirewallPort'), { outcome: 'pending', detail: /waiting until its record takes over tcp\/443/ });
  t.equal(still.clean, false);

  const taken = planFinalize(obs({ ...cleaned, ...needs, siblingAdded: [rule(tcp(443))], siblingAddedNodes: new Set([idOf('n2')]) }));
  t.same(taken.handover, { rules: [], nodes: [] });
  t.equal(taken.clean, true, 'the sibling owns them now: this RoutedIP may go, the sibling removes them last');

  const partly = planFinalize(obs({ ...cleaned, ...needs, siblingAdded: [rule(tcp(443), ['0.0.0.0/0'])], siblingAddedNodes: new Set([idOf('n2')]) }));
  t.same(partly.handover.rules, [rule(tcp(443), ['::/0'])], 'per source: a source nobody records is still waited on');
});
