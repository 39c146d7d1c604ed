/** ElectRoutedIPNode: sticky holder, previous, deterministic spreading fresh choice, none. */
import t from 'tap';
import { electNode, type ElectionInput } from '../../src/plan/elect.js';
import { bad, ok } from './fixtures/plan.js';

const none = new Set<string>();
const input = (parts: Partial<ElectionInput>): ElectionInput => ({ ownerUid: 'uid-public', nodes: [], taken: none, ...parts });
const four = [ok('n1'), ok('n2'), ok('n3'), ok('n4')];

const cases: Array<{ name: string; in: Partial<ElectionInput>; node: string | undefined; reason: string }> = [
  { name: 'no nodes: none', in: { nodes: [] }, node: undefined, reason: 'none' },
  { name: 'no eligible node: none', in: { nodes: [bad('n1'), bad('n2')] }, node: undefined, reason: 'none' },
  { name: 'no eligible node: even the holder is not kept', in: { nodes: [bad('n1')], holder: 'n1', previous: 'n1' }, node: undefined, reason: 'none' },
  { name: 'sticky: eligible holder keeps the IP', in: { nodes: four, holder: 'n3' }, node: 'n3', reason: 'holder' },
  { name: 'sticky: holder beats previous', in: { nodes: four, holder: 'n3', previous: 'n2' }, node: 'n3', reason: 'holder' },
  { name: 'sticky: holder kept even when taken by a sibling', in: { nodes: four, holder: 'n3', taken: new Set(['n3']) }, node: 'n3', reason: 'holder' },
  { name: 'ineligible holder: previous elected finishes the move', in: { nodes: [bad('n1'), ok('n2'), ok('n3')], holder: 'n1', previous: 'n3' }, node: 'n3', reason: 'previous' },
  { name: 'no holder: previous elected', in: { nodes: four, previous: 'n2' }, node: 'n2', reason: 'previous' },
  { name: 'previous kept even when taken', in: { nodes: four, previous: 'n2', taken: new Set(['n2']) }, node: 'n2', reason: 'previous' },
  { name: 'single eligible node is chosen fresh', in: { nodes: [bad('n1'), ok('n2')], holder: 'n1', previous: 'n1' }, node: 'n2', reason: 'fresh' },
  { name: 'holder not a known node: fresh', in: { nodes: [ok('n2')], holder: 'gone' }, node: 'n2', reason: 'fresh' },
  { name: 'previous not a known node: fresh', in: { nodes: [ok('n2')], previous: 'gone' }, node: 'n2', reason: 'fresh' },
  { name: 'taken nodes avoided when a free node exists', in: { nodes: four, taken: new Set(['n1', 'n2', 'n4']) }, node: 'n3', reason: 'fresh' },
  { name: 'taken ineligible nodes do not count as free', in: { nodes: [ok('n1'), bad('n2')], taken: new Set(['n1']) }, node: 'n1', reason: 'fresh' },
  // One reserved IP per droplet: a node whose machine holds another address cannot take ours.
  { name: 'occupied nodes are never elected fresh, even when every other node is taken', in: { nodes: four, taken: new Set(['n1', 'n2']), occupied: new Set(['n3', 'n4']) }, node: 'n1', reason: 'fresh' },
  { name: 'occupied previous elected: chosen again elsewhere', in: { nodes: [ok('n1'), ok('n2')], previous: 'n1', occupied: new Set(['n1']) }, node: 'n2', reason: 'fresh' },
  { name: 'the holder keeps its IP whatever else its machine is said to hold', in: { nodes: four, holder: 'n2', occupied: new Set(['n2']) }, node: 'n2', reason: 'holder' },
  { name: 'every eligible node occupied: none, reason occupied', in: { nodes: [ok('n1'), ok('n2'), bad('n3')], occupied: new Set(['n1', 'n2']) }, node: undefined, reason: 'occupied' },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(electNode(input(c.in)), c.node === undefined ? { reason: c.reason } : { node: c.node, reason: c.reason });
  });
}

t.test('fresh choice is deterministic: same inputs, same node, whatever the node order', async (t) => {
  for (let i = 0; i < 50; i++) {
    const uid = `uid-${i}`;
    const a = electNode(input({ ownerUid: uid, nodes: four }));
    const b = electNode(input({ ownerUid: uid, nodes: [...four].reverse() }));
    const c = electNode(input({ ownerUid: uid, nodes: [four[2]!, four[0]!, four[3]!, four[1]!] }));
    t.equal(a.reason, 'fresh');
    t.equal(b.node, a.node, `${uid}: reversed order`);
    t.equal(c.node, a.node, `${uid}: shuffled order`);
  }
});

t.test('fresh choice ignores ineligible nodes and is stable when an unrelated node goes away', async (t) => {
  // Rendezvous hashing: removing a node that was not chosen does not move the choice.
  for (let i = 0; i < 50; i++) {
    const uid = `uid-${i}`;
    const chosen = electNode(input({ ownerUid: uid, nodes: four })).node;
    const other = four.find((n) => n.name !== chosen)!;
    const without = four.map((n) => (n.name === other.name ? bad(n.name) : n));
    t.equal(electNode(input({ ownerUid: uid, nodes: without })).node, chosen, `${uid}: dropping ${other.name}`);
  }
});

t.test('different uids spread over nodes', async (t) => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 100; i++) {
    const e = electNode(input({ ownerUid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, nodes: four }));
    t.equal(e.reason, 'fresh');
    counts.set(e.node!, (counts.get(e.node!) ?? 0) + 1);
  }
  t.ok(counts.size >= 3, `100 uids land on at least 3 of 4 nodes (got ${counts.size})`);
  for (const n of four) t.ok((counts.get(n.name) ?? 0) >= 1, `${n.name} gets at least one RoutedIP (${counts.get(n.name) ?? 0})`);
});

t.test('taken nodes: used when no node is free, and the choice is then among all eligible', async (t) => {
  const allTaken = new Set(['n1', 'n2', 'n3', 'n4']);
  for (let i = 0; i < 30; i++) {
    const uid = `uid-${i}`;
    const e = electNode(input({ ownerUid: uid, nodes: four, taken: allTaken }));
    t.equal(e.reason, 'fresh');
    t.equal(e.node, electNode(input({ ownerUid: uid, nodes: four })).node, 'all taken = as if none taken');
  }
});

t.test('taken nodes avoided whenever a free node exists (many uids)', async (t) => {
  for (let i = 0; i < 50; i++) {
    for (const taken of [['n1'], ['n1', 'n2'], ['n2', 'n3', 'n4'], ['n1', 'n3']]) {
      const e = electNode(input({ ownerUid: `uid-${i}`, nodes: four, taken: new Set(taken) }));
      t.notOk(taken.includes(e.node!), `uid-${i} with ${taken.join(',')} taken chose ${e.node}`);
    }
  }
});

t.test('successive RoutedIPs, each seeing the others as taken, take distinct nodes', async (t) => {
  const taken = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const e = electNode(input({ ownerUid: `uid-${i}`, nodes: four, taken }));
    t.notOk(taken.has(e.node!), `uid-${i} took a free node`);
    taken.add(e.node!);
  }
  t.equal(taken.size, 4);
});

t.test('nodePreference: a fresh election takes the highest score; stickiness and a move in progress win', async (t) => {
  const pref = new Map([['n1', 0], ['n2', 50], ['n3', 50], ['n4', 10]]);
  for (let i = 0; i < 30; i++) {
    const uid = `uid-${i}`;
    const e = electNode(input({ ownerUid: uid, nodes: four, preference: pref }));
    t.equal(e.reason, 'fresh');
    t.ok(e.node === 'n2' || e.node === 'n3', `${uid}: one of the top-scored nodes (${e.node})`);
    // Between equal scores the rendezvous hash decides, as it would without any preference.
    t.equal(e.node, electNode(input({ ownerUid: uid, nodes: [ok('n2'), ok('n3')] })).node, `${uid}: tie broken by the hash`);
    t.equal(electNode(input({ ownerUid: uid, nodes: [...four].reverse(), preference: pref })).node, e.node, `${uid}: node order does not matter`);
  }
  t.same(electNode(input({ nodes: four, preference: pref, holder: 'n1' })), { node: 'n1', reason: 'holder' }, 'an eligible holder keeps the IP, whatever it scores');
  t.same(electNode(input({ nodes: [bad('n1'), ok('n2'), ok('n3'), ok('n4')], preference: pref, holder: 'n1', previous: 'n4' })), { node: 'n4', reason: 'previous' }, 'a move in progress is finished');
  t.same(electNode(input({ nodes: [ok('n1'), bad('n2'), bad('n3'), ok('n4')], preference: pref })), { node: 'n4', reason: 'fresh' }, 'the best eligible score, even when the best nodes are down');
  t.same(electNode(input({ nodes: four, preference: pref, occupied: new Set(['n2', 'n3']) })), { node: 'n4', reason: 'fresh' }, 'occupied nodes are never elected, whatever they score');
  t.same(electNode(input({ nodes: four, preference: new Map([['n9', 100]]) })), electNode(input({ nodes: four })), 'scores of unknown nodes change nothing');
});

t.test('nodePreference before spreading: taken nodes avoided only among the top-scored', async (t) => {
  const pref = new Map([['n1', 100], ['n2', 100], ['n3', 0], ['n4', 0]]);
  t.same(electNode(input({ nodes: four, preference: pref, taken: new Set(['n1']) })), { node: 'n2', reason: 'fresh' }, 'the free top node');
  const allTopTaken = electNode(input({ nodes: four, preference: pref, taken: new Set(['n1', 'n2']) }));
  t.ok(allTopTaken.node === 'n1' || allTopTaken.node === 'n2', `every top node taken: still a top node (${allTopTaken.node})`);
});

t.test('failover grace: the ineligible holder keeps the IP while keepHolder is set', async (t) => {
  const nodes = [bad('n1'), ok('n2'), ok('n3')];
  t.same(electNode(input({ nodes, holder: 'n1', keepHolder: true })), { node: 'n1', reason: 'grace' });
  t.same(electNode(input({ nodes, holder: 'n1', previous: 'n2', keepHolder: true })), { node: 'n1', reason: 'grace' }, 'even over a previous election');
  t.same(electNode(input({ nodes: [bad('n1')], holder: 'n1', keepHolder: true })), { node: 'n1', reason: 'grace' }, 'with no other node too');
  t.equal(electNode(input({ nodes, holder: 'n1' })).reason, 'fresh', 'without it: moves');
  t.same(electNode(input({ nodes: [ok('n2')], holder: 'n1', keepHolder: true })), { node: 'n2', reason: 'fresh' }, 'a holder that is no known node is not kept');
  t.same(electNode(input({ nodes: [{ name: 'n1', eligible: false, reason: 'providerID does not parse' }, ok('n2')], holder: 'n1', keepHolder: true })), { node: 'n2', reason: 'fresh' }, 'a holder without a cloud target is not kept');
});

t.test('the fresh choice is the rendezvous maximum of SHA-256(uid NUL node): stable across versions', async (t) => {
  // A reference computed apart from elect.ts: a changed weight would move fresh and standby
  // choices (and so firewall members) of every RoutedIP on upgrade.
  const { createHash } = await import('node:crypto');
  const reference = (uid: string, names: string[]) =>
    names.map((n) => ({ n, w: createHash('sha256').update(`${uid}\u0000${n}`).digest().readBigUInt64BE(0) })).reduce((a, b) => (b.w > a.w ? b : a)).n;
  const names = Array.from({ length: 12 }, (_, i) => `node-${i}`);
  const chosen = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const uid = `uid-${i}`;
    const got = electNode(input({ ownerUid: uid, nodes: names.map((n) => ok(n)) })).node;
    t.equal(got, reference(uid, names), uid);
    chosen.add(got ?? '');
  }
  t.ok(chosen.size > 1, 'different RoutedIPs prefer different nodes');
  // Weights are remembered (bounded, cleared when full): a second pass, and a pass after more
  // distinct pairs than the cache holds, still choose what the reference chooses.
  const many = Array.from({ length: 25_000 }, (_, i) => `big-${i}`);
  electNode(input({ ownerUid: 'uid-many', nodes: many.map((n) => ok(n)) }));
  for (let i = 0; i < 40; i++) {
    const uid = `uid-${i}`;
    t.equal(electNode(input({ ownerUid: uid, nodes: names.map((n) => ok(n)) })).node, reference(uid, names), `${uid} again`);
  }
  t.equal(electNode(input({ ownerUid: 'uid-many', nodes: many.map((n) => ok(n)) })).node, reference('uid-many', many), 'over more pairs than the cache holds');
});
