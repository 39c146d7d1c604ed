/**
 * Properties of the sync plan over many generated observations (seeded, deterministic):
 * step order, availability order, ownership of every delete, and convergence when the plan's
 * actions are applied to a simulated cloud round after round.
 */
import t from 'tap';
import type { FirewallRule, ObservedFirewall, ObservedRoutedIP } from '../../src/issuers/issuer.js';
import { PortSources, sourceKey } from '../../src/plan/firewall.js';
import { portKey, sortPorts } from '../../src/plan/ports.js';
import { SYNC_STEPS, type PlannedStep, type StepAction } from '../../src/plan/steps.js';
import { planSync, type SyncObservation, type SyncPlan } from '../../src/plan/sync-plan.js';
import type { FirewallPort, FirewallStatus } from '../../src/schemas/routed-ip.js';
import type { JudgedNode } from '../../src/plan/eligibility.js';
import { effectiveActions, idOf, prng, tcp, udp, type Rng } from './fixtures/plan.js';

const UNIVERSE: FirewallPort[] = [tcp(22), tcp(80), tcp(443), tcp(8080), udp(53)];
const SOURCE_POOL = ['0.0.0.0/0', '10.0.0.0/8', '::/0'];
const NAMES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const FOREIGN_NODE = 'id-foreign';

function genNodes(r: Rng): JudgedNode[] {
  return NAMES.slice(0, r.int(NAMES.length + 1)).map((name) => {
    if (r.chance(0.65)) return { name, target: { node: name, id: idOf(name) }, eligible: true, reason: '' };
    if (r.chance(0.2)) return { name, eligible: false, reason: 'providerID does not parse for this issuer' };
    return { name, target: { node: name, id: idOf(name) }, eligible: false, reason: r.pick(['not Ready', 'unschedulable', 'NoExecute taint']) };
  });
}
const genSources = (r: Rng): string[] => {
  const s = r.subset(SOURCE_POOL);
  return s.length > 0 ? s : [r.pick(SOURCE_POOL)];
};

/** A random, possibly inconsistent observation: stale status, foreign rules, siblings, pending actions. */
export function generate(seed: number): SyncObservation {
  const r = prng(seed);
  const nodes = genNodes(r);
  const ids = [...nodes.map((n) => idOf(n.name)), FOREIGN_NODE];
  const names = nodes.map((n) => n.name);
  let ip: ObservedRoutedIP | undefined;
  if (r.chance(0.7)) {
    const holder = r.chance(0.75) && ids.length > 0 ? r.pick(ids) : undefined;
    const pending = r.chance(0.2) ? { id: `a-${seed}`, type: 'assign', ...(ids.length > 0 && r.chance(0.8) ? { target: r.pick(ids) } : {}) } : undefined;
    ip = { address: '203.0.113.7', id: '203.0.113.7', ...(holder ? { holder } : {}), ...(pending ? { pendingAction: pending } : {}) };
  }
  const firewallName = r.chance(0.85) ? 'ingress-public' : undefined;
  let firewall: ObservedFirewall | undefined;
  if (firewallName && r.chance(0.85)) {
    firewall = {
      id: 'fw-1',
      name: firewallName,
      rules: r.subset(UNIVERSE).map((p) => ({ ...p, sources: genSources(r) })),
      nodes: r.subset(ids),
      ...(r.chance(0.4) ? { owned: r.subset(UNIVERSE, 0.3).map((p) => ({ ...p, sources: genSources(r) })) } : {}),
      ...(r.chance(0.25) ? { ownedNodes: r.subset(ids, 0.3).sort() } : {}),
    };
  }
  let previousFirewall: FirewallStatus | undefined;
  if (r.chance(0.7)) {
    previousFirewall = {
      id: r.chance(0.8) ? 'fw-1' : 'fw-old',
      name: 'ingress-public',
      ports: sortPorts(r.subset(UNIVERSE)),
      nodes: r.subset(ids),
      addedPorts: sortPorts(r.subset(UNIVERSE)).map((p) => (r.chance(0.8) ? { ...p, sources: genSources(r) } : p)),
      addedNodes: r.subset(ids).sort(),
    };
  }
  const previousElected = names.length > 0 && r.chance(0.6) ? r.pick(names) : undefined;
  return {
    ownerUid: `uid-${seed}`,
    nodes,
    ...(ip ? { ip } : {}),
    ...(previousElected !== undefined ? { previousElected } : {}),
    ...(previousFirewall ? { previousFirewall } : {}),
    taken: new Set(r.subset(names, 0.3)),
    ...(firewallName !== undefined ? { firewallName } : {}),
    ...(firewall ? { firewall } : {}),
    ports: sortPorts(r.subset(UNIVERSE)),
    sources: r.pick([['0.0.0.0/0', '::/0'], ['0.0.0.0/0'], ['10.0.0.0/8', '::/0']]),
    siblingPorts: new Set(r.subset(UNIVERSE, 0.25).flatMap((p) => (r.chance(0.3) ? [portKey(p)] : genSources(r).map((src) => sourceKey(p, src))))),
    siblingNodes: new Set(r.subset(ids, 0.25)),
    siblingAdded: r.subset(UNIVERSE, 0.25).map((p) => ({ ...p, sources: genSources(r) })),
    siblingAddedNodes: new Set(r.subset(ids, 0.25)),
  };
}

const indices = (steps: readonly PlannedStep[], kinds: StepAction['kind'][]) =>
  steps.flatMap((s, i) => (s.action && kinds.includes(s.action.kind) ? [i] : []));

/**
 * (port, source) pairs and node ids this RoutedIP may own in `fw`, computed from the rules of
 * ownership (its record, its marks, what a sibling added that it wants too), not from the plan.
 */
function owned(o: SyncObservation, fw: ObservedFirewall) {
  const prev = o.previousFirewall?.id === fw.id ? o.previousFirewall : undefined;
  const pairs = new Set<string>();
  for (const a of prev?.addedPorts ?? []) for (const src of a.sources ?? o.sources) pairs.add(sourceKey(a, src));
  for (const a of fw.owned ?? []) for (const src of a.sources) pairs.add(sourceKey(a, src));
  for (const a of o.siblingAdded ?? []) {
    if (!o.ports.some((p) => portKey(p) === portKey(a))) continue;
    for (const src of a.sources) if (o.sources.includes(src)) pairs.add(sourceKey(a, src));
  }
  const nodes = new Set([...(prev?.addedNodes ?? []), ...(fw.ownedNodes ?? [])]);
  for (const id of o.siblingAddedNodes ?? []) nodes.add(id);
  return { pairs, nodes };
}

/**
 * Recorded before acted: what an add may open without the cloud's mark, because the status this
 * sync was planned from already claims it (a stale parent then still has the claim).
 */
function claimedBefore(o: SyncObservation, fw: ObservedFirewall) {
  const prev = o.previousFirewall?.id === fw.id ? o.previousFirewall : undefined;
  const pairs = new Set<string>();
  for (const a of prev?.addedPorts ?? []) for (const src of a.sources ?? o.sources) pairs.add(sourceKey(a, src));
  return { pairs, nodes: new Set(prev?.addedNodes ?? []) };
}

/** Checks every property of one plan; returns a list of violations (empty = fine). */
export function violations(o: SyncObservation, plan: SyncPlan): string[] {
  const bad: string[] = [];
  const { steps } = plan;
  if (JSON.stringify(steps.map((s) => s.name)) !== JSON.stringify(SYNC_STEPS)) bad.push('step names differ from SYNC_STEPS');

  // Availability order, in the planned list (halted or not).
  const adds = indices(steps, ['addPorts', 'addNode']);
  const moves = indices(steps, ['assign', 'create']);
  const deletes = indices(steps, ['deletePorts', 'deleteNodes']);
  for (const m of moves) {
    if (adds.some((a) => a > m)) bad.push('an add comes after assign/create');
    if (deletes.some((d) => d < m)) bad.push('a delete comes before assign/create');
  }

  // Election.
  const elected = o.nodes.find((n) => n.name === plan.election.node);
  if (plan.election.node !== undefined && !elected?.eligible) bad.push(`elected ${plan.election.node} is not eligible`);
  if (o.nodes.some((n) => n.eligible) !== (plan.election.node !== undefined)) bad.push('elected iff some node is eligible');
  const holderNode = o.nodes.find((n) => n.target?.id === o.ip?.holder);
  if (holderNode?.eligible && plan.election.node !== holderNode.name) bad.push('an eligible holder lost the IP');

  // Ownership: every delete targets only what we own, nothing a sibling needs, nothing desired.
  const fw = o.firewall;
  for (const s of steps) {
    const a = s.action;
    if (!a) continue;
    if ((a.kind === 'addPorts' || a.kind === 'deletePorts' || a.kind === 'addNode' || a.kind === 'deleteNodes') && (!fw || o.firewallName === undefined)) {
      bad.push(`${a.kind} without a firewall`);
      continue;
    }
    if (a.kind === 'deletePorts' && fw) {
      const own = owned(o, fw);
      for (const r of a.rules) {
        const key = portKey(r);
        const seen = fw.rules.find((x) => portKey(x) === key);
        if (o.siblingPorts.has(key)) bad.push(`deletes port ${key} a sibling needs`);
        if (!seen) bad.push(`deletes absent port ${key}`);
        for (const src of r.sources) {
          if (!own.pairs.has(sourceKey(r, src))) bad.push(`deletes unowned source ${src} on ${key}`);
          if (o.siblingPorts.has(sourceKey(r, src))) bad.push(`deletes source ${src} on ${key} a sibling needs`);
          if (o.ports.some((p) => portKey(p) === key) && o.sources.includes(src)) bad.push(`deletes wanted source ${src} on ${key}`);
          if (!seen?.sources.includes(src)) bad.push(`deletes absent source ${src} on ${key}`);
        }
        if (r.sources.length === 0) bad.push(`empty delete on ${key}`);
      }
    }
    if (a.kind === 'deleteNodes' && fw) {
      const own = owned(o, fw);
      for (const id of a.ids) {
        if (!own.nodes.has(id)) bad.push(`deletes unowned node ${id}`);
        if (o.siblingNodes.has(id)) bad.push(`deletes node ${id} a sibling needs`);
        if (id === elected?.target?.id) bad.push(`deletes the elected node ${id}`);
        if (!fw.nodes.includes(id)) bad.push(`deletes absent node ${id}`);
      }
    }
    if (a.kind === 'addPorts' && fw && fw.owned === undefined) {
      const claims = claimedBefore(o, fw);
      for (const r of a.rules) for (const src of r.sources) if (!claims.pairs.has(sourceKey(r, src))) bad.push(`adds unclaimed source ${src} on ${portKey(r)}`);
    }
    if (a.kind === 'addNode' && fw && fw.ownedNodes === undefined && !claimedBefore(o, fw).nodes.has(a.node.id)) bad.push(`adds unclaimed node ${a.node.id}`);
    if (a.kind === 'addPorts' && fw) {
      for (const r of a.rules) {
        const seen = fw.rules.find((x) => portKey(x) === portKey(r));
        if (!o.ports.some((p) => portKey(p) === portKey(r))) bad.push(`adds undesired port ${portKey(r)}`);
        for (const src of r.sources) if (!o.sources.includes(src) || seen?.sources.includes(src)) bad.push(`adds bad source ${src}`);
      }
    }
  }

  // What really runs (halting rule): moves only onto a node that is in the firewall with every port.
  const eff = effectiveActions(steps);
  if (o.firewallName !== undefined && !fw && eff.some((a) => a.kind === 'assign' || a.kind === 'create')) bad.push('moves without the named firewall');
  if (o.ip?.pendingAction && eff.some((a) => a.kind === 'assign' || a.kind === 'deletePorts' || a.kind === 'deleteNodes')) bad.push('acts on the IP or deletes while an action is pending');
  if (fw && o.firewallName !== undefined) {
    const nodesIn = new Set(fw.nodes);
    const sourcesOf = new Map(fw.rules.map((r) => [portKey(r), new Set(r.sources)]));
    let holder = o.ip?.holder;
    for (const a of eff) {
      if (a.kind === 'addNode') nodesIn.add(a.node.id);
      if (a.kind === 'addPorts') for (const r of a.rules) for (const s of r.sources) sourcesOf.set(portKey(r), new Set([...(sourcesOf.get(portKey(r)) ?? []), s]));
      if (a.kind === 'assign' || a.kind === 'create') {
        if (!nodesIn.has(a.node.id)) bad.push(`${a.kind} to ${a.node.id} before it is in the firewall`);
        for (const p of o.ports) for (const s of o.sources) if (!sourcesOf.get(portKey(p))?.has(s)) bad.push(`${a.kind} before ${portKey(p)} is open from ${s}`);
        holder = a.node.id;
      }
      if (a.kind === 'deleteNodes' && holder !== undefined && a.ids.includes(holder)) bad.push(`removes the node holding the IP (${holder})`);
      if (a.kind === 'deletePorts') for (const r of a.rules) if (o.ports.some((p) => portKey(p) === portKey(r)) && r.sources.some((s) => o.sources.includes(s))) bad.push('removes a needed port');
    }
  }
  return bad;
}

const SEEDS = 3000;

t.test('generated observations: every plan keeps order, ownership and availability', async (t) => {
  let withMoves = 0;
  let withDeletes = 0;
  let movesAndDeletes = 0;
  const failures: string[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const o = generate(seed);
    const plan = planSync(o);
    const v = violations(o, plan);
    if (v.length > 0) failures.push(`seed ${seed}: ${[...new Set(v)].join('; ')}`);
    const eff = effectiveActions(plan.steps).map((a) => a.kind);
    const moves = eff.includes('assign') || eff.includes('create');
    const dels = eff.includes('deletePorts') || eff.includes('deleteNodes');
    withMoves += moves ? 1 : 0;
    withDeletes += dels ? 1 : 0;
    movesAndDeletes += moves && dels ? 1 : 0;
    if (JSON.stringify(planSync(o)) !== JSON.stringify(plan)) failures.push(`seed ${seed}: not deterministic`);
  }
  t.same(failures.slice(0, 20), [], `no violations over ${SEEDS} observations`);
  // The generator must actually reach the interesting cases, or the property proves nothing.
  t.ok(withMoves > SEEDS / 10, `plans that move the IP: ${withMoves}`);
  t.ok(withDeletes > SEEDS / 10, `plans that delete: ${withDeletes}`);
  t.ok(movesAndDeletes > SEEDS / 50, `plans that move then delete: ${movesAndDeletes}`);
});

t.test('the generator is deterministic', async (t) => {
  t.equal(JSON.stringify([...generate(42).taken]), JSON.stringify([...generate(42).taken]));
  t.same(generate(42), generate(42));
  t.not(JSON.stringify(generate(42)), JSON.stringify(generate(43)));
});

// ---------------------------------------------------------------------------------------------
// Convergence: apply the actions that would run to a simulated cloud, record ownership as the
// status does (owned ∪ claimed − deleted), complete pending actions, and plan again.

interface Cloud {
  ip?: ObservedRoutedIP;
  rules: Map<string, Set<string>>;
  nodes: Set<string>;
  exists: boolean;
}

const toFirewall = (c: Cloud, base: ObservedFirewall): ObservedFirewall => ({
  ...base,
  rules: sortPorts(
    [...c.rules.entries()]
      .filter(([, s]) => s.size > 0)
      .map(([k, s]) => {
        const [protocol, port] = k.split('/') as ['tcp' | 'udp', string];
        return { protocol, port: Number(port), sources: [...s].sort() } satisfies FirewallRule;
      }),
  ),
  nodes: [...c.nodes].sort(),
});

t.test('generated observations converge: applying the plan leaves nothing to do', async (t) => {
  const failures: string[] = [];
  let converged = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    let o = generate(seed);
    const cloud: Cloud = {
      ...(o.ip ? { ip: o.ip } : {}),
      rules: new Map((o.firewall?.rules ?? []).map((r) => [portKey(r), new Set(r.sources)])),
      nodes: new Set(o.firewall?.nodes ?? []),
      exists: o.firewall !== undefined,
    };
    let done = false;
    for (let round = 0; round < 6 && !done; round++) {
      const plan = planSync(o);
      const v = violations(o, plan);
      if (v.length > 0) {
        failures.push(`seed ${seed} round ${round}: ${[...new Set(v)].join('; ')}`);
        break;
      }
      const eff = effectiveActions(plan.steps);
      const claiming = (plan.firewall?.claimRules.length ?? 0) > 0 || plan.firewall?.claimNode !== undefined;
      if (eff.length === 0 && !cloud.ip?.pendingAction && !claiming) {
        done = true;
        break;
      }
      const completed = new Set<string>();
      for (const a of eff) {
        completed.add(a.kind);
        switch (a.kind) {
          case 'addPorts':
            for (const r of a.rules) cloud.rules.set(portKey(r), new Set([...(cloud.rules.get(portKey(r)) ?? []), ...r.sources]));
            break;
          case 'deletePorts':
            for (const r of a.rules) for (const s of r.sources) cloud.rules.get(portKey(r))?.delete(s);
            break;
          case 'addNode':
            cloud.nodes.add(a.node.id);
            break;
          case 'deleteNodes':
            for (const id of a.ids) cloud.nodes.delete(id);
            break;
          case 'create':
            cloud.ip = { address: '203.0.113.7', id: '203.0.113.7', holder: a.node.id };
            break;
          case 'assign':
            cloud.ip = { ...cloud.ip!, holder: a.node.id };
            break;
          case 'delete':
            failures.push(`seed ${seed}: a sync plan deletes the IP`);
        }
      }
      // A pending action seen this round completes before the next one.
      if (eff.length === 0 && cloud.ip?.pendingAction) {
        const { pendingAction, ...rest } = cloud.ip;
        cloud.ip = { ...rest, ...(pendingAction.target !== undefined ? { holder: pendingAction.target } : {}) };
      }
      const fwPlan = plan.firewall;
      let previousFirewall = o.previousFirewall;
      if (fwPlan && o.firewall) {
        const ports = new PortSources();
        for (const r of fwPlan.owned) ports.add(r, r.sources);
        if (completed.has('deletePorts')) for (const r of fwPlan.deleteRules) ports.remove(r, r.sources);
        for (const r of fwPlan.claims) ports.add(r, r.sources);
        const nodes = new Set(fwPlan.recordedNodes);
        if (completed.has('deleteNodes')) for (const id of fwPlan.deleteNodes) nodes.delete(id);
        for (const id of fwPlan.nodeClaims) nodes.add(id);
        previousFirewall = { id: o.firewall.id, name: o.firewall.name, ports: [...o.ports], nodes: [], addedPorts: ports.rules().map((r) => ({ ...r, sources: [...r.sources] })), addedNodes: [...nodes].sort() };
      }
      const { ip: _ip, previousElected: _pe, previousFirewall: _pf, firewall: _fw, ...rest } = o;
      o = {
        ...rest,
        ...(cloud.ip ? { ip: cloud.ip } : {}),
        ...(plan.election.node !== undefined ? { previousElected: plan.election.node } : o.previousElected !== undefined ? { previousElected: o.previousElected } : {}),
        ...(previousFirewall ? { previousFirewall } : {}),
        ...(o.firewall ? { firewall: toFirewall(cloud, o.firewall) } : {}),
      };
    }
    if (!done) {
      if (!failures.some((f) => f.startsWith(`seed ${seed} `))) failures.push(`seed ${seed}: did not converge in 6 rounds`);
      continue;
    }
    converged++;
    // Converged: the IP sits on the elected node, which has every port open.
    const plan = planSync(o);
    const elected = o.nodes.find((n) => n.name === plan.election.node)?.target;
    const fwOk = o.firewallName === undefined || o.firewall !== undefined;
    if (elected && fwOk) {
      if (o.ip?.holder !== elected.id) failures.push(`seed ${seed}: converged with the IP on ${o.ip?.holder}, not ${elected.id}`);
      if (o.firewall) {
        if (!o.firewall.nodes.includes(elected.id)) failures.push(`seed ${seed}: elected node not in the firewall`);
        for (const p of o.ports)
          for (const s of o.sources) if (!o.firewall.rules.find((r) => portKey(r) === portKey(p))?.sources.includes(s)) failures.push(`seed ${seed}: ${portKey(p)} not open from ${s}`);
      }
    }
  }
  t.same(failures.slice(0, 20), [], 'every generated observation converges without a violation');
  t.ok(converged > 1400, `converged: ${converged}`);
});

// The checker itself must catch broken plans, or the properties above prove nothing.
t.test('the property checker flags broken plans', async (t) => {
  const o: SyncObservation = {
    ownerUid: 'uid-check',
    nodes: [
      { name: 'n1', target: { node: 'n1', id: idOf('n1') }, eligible: false, reason: 'not Ready' },
      { name: 'n2', target: { node: 'n2', id: idOf('n2') }, eligible: true, reason: '' },
    ],
    ip: { address: '203.0.113.7', id: '203.0.113.7', holder: idOf('n1') },
    taken: new Set(),
    firewallName: 'ingress-public',
    firewall: { id: 'fw-1', name: 'ingress-public', rules: [{ ...tcp(22), sources: ['0.0.0.0/0'] }], nodes: [idOf('n1'), idOf('x')] },
    previousFirewall: { id: 'fw-1', name: 'ingress-public', ports: [], nodes: [], addedPorts: [{ ...tcp(443), sources: ['0.0.0.0/0'] }], addedNodes: [idOf('n1'), idOf('n2')] },
    ports: [tcp(443)],
    sources: ['0.0.0.0/0'],
    siblingPorts: new Set(),
    siblingNodes: new Set([idOf('x')]),
  };
  const plan = planSync(o);
  t.same(violations(o, plan), [], 'the real plan is fine');
  const steps = [...plan.steps];
  const at = (name: string) => steps.findIndex((s) => s.name === name);
  const replace = (name: string, s: PlannedStep): PlannedStep[] => steps.map((x) => (x.name === name ? s : x));
  const check = (label: string, broken: PlannedStep[], expect: RegExp) => {
    const v = violations(o, { ...plan, steps: broken });
    t.ok(v.some((m) => expect.test(m)), `${label}: ${v.join('; ') || 'no violation found'}`);
  };
  const swapped = [...steps];
  [swapped[at('AddRoutedIPFirewallNode')], swapped[at('AssignRoutedIP')]] = [swapped[at('AssignRoutedIP')]!, swapped[at('AddRoutedIPFirewallNode')]!];
  check('assign before addNode', swapped, /add comes after|before it is in the firewall/);
  check('deletes a foreign port', replace('DeleteRoutedIPFirewallPort', { name: 'DeleteRoutedIPFirewallPort', action: { kind: 'deletePorts', rules: [{ ...tcp(22), sources: ['0.0.0.0/0'] }] }, detail: '' }), /unowned source 0.0.0.0\/0 on tcp\/22/);
  check('deletes a sibling node', replace('DeleteRoutedIPFirewallNode', { name: 'DeleteRoutedIPFirewallNode', action: { kind: 'deleteNodes', ids: [idOf('x')] }, detail: '' }), /unowned node|sibling needs/);
  check('deletes the holder before the move', replace('AssignRoutedIP', { name: 'AssignRoutedIP', action: { kind: 'deleteNodes', ids: [idOf('n1')] }, detail: '' }), /node holding the IP/);
  check('assign without the port', replace('AddRoutedIPFirewallPort', { name: 'AddRoutedIPFirewallPort', outcome: 'skipped', detail: '' }), /before tcp\/443 is open/);
  const unclaimed = { ...o, previousFirewall: { ...o.previousFirewall!, addedPorts: [], addedNodes: [idOf('n1')] } };
  const early = violations(unclaimed, plan);
  t.ok(early.some((m) => /adds unclaimed source 0.0.0.0\/0 on tcp\/443/.test(m)) && early.some((m) => /adds unclaimed node id-n2/.test(m)), `adds before the claim is recorded: ${early.join('; ')}`);
  const v = violations(o, { ...plan, election: { node: 'n1', reason: 'holder' } });
  t.ok(v.some((m) => /not eligible/.test(m)), `elects an ineligible node: ${v.join('; ')}`);
});
