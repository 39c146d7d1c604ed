/**
 * The Node DecoratorController through POST /node/sync: holder nodes carry the label and the
 * annotation, others lose them, and no sync loop can start — the marks change only when the
 * holder changes, a steady state writes nothing, and writing the label never moves an IP.
 */
import { READY_RESYNC_SECONDS } from '../../src/reconcile/sync.js';
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { applyStringUpdates } from '../../src/demo/metacontroller.js';
import { HOLDER_LABEL, HOLDS_ANNOTATION } from '../../src/plan/holder.js';
import type { DecoratorResponse } from '../../src/schemas/decorator.js';
import type { Node } from '../../src/schemas/kubernetes.js';
import type { RoutedIPObject } from '../../src/schemas/routed-ip.js';
import { notReady, routedIP } from '../fixtures/k8s.js';
import { ScriptedWorld } from './world.js';

/** POST /node/sync for `node` with `routedIPs` related, as Metacontroller sends it (v2 keys). */
async function nodeSync(app: FastifyInstance, node: Node, routedIPs: RoutedIPObject[]): Promise<DecoratorResponse> {
  const res = await app.inject({
    method: 'POST',
    url: '/node/sync',
    payload: {
      controller: { kind: 'DecoratorController', metadata: { name: 'routedip-nodes' } },
      object: node,
      attachments: {},
      related: { 'RoutedIP.routedip.io/v1alpha1': Object.fromEntries(routedIPs.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r])) },
      finalizing: false,
    },
  });
  if (res.statusCode !== 200) throw new Error(`node sync answered ${res.statusCode}: ${res.payload}`);
  return res.json() as DecoratorResponse;
}

/** Plays Metacontroller for every node: applies the answers, returns the nodes that were written. */
async function decorateNodes(world: ScriptedWorld, routedIPs: RoutedIPObject[]): Promise<string[]> {
  const written: string[] = [];
  world.nodes = await Promise.all(
    world.nodes.map(async (n) => {
      const answer = await nodeSync(world.app, n, routedIPs);
      const labels = applyStringUpdates(n.metadata.labels, answer.labels ?? {});
      const annotations = applyStringUpdates(n.metadata.annotations, answer.annotations ?? {});
      if (!labels.changed && !annotations.changed) return n;
      written.push(n.metadata.name);
      return { ...n, metadata: { ...n.metadata, labels: labels.result, annotations: annotations.result } };
    }),
  );
  return written.sort();
}

const held = (ns: string, name: string, node: string | undefined, address: string, extra: Record<string, unknown> = {}) =>
  routedIP(name, {}, [(r) => Object.assign(r.metadata, { namespace: ns }), (r) => (r.status = { ...(node ? { node } : {}), address, ...extra })]);

t.test('the holder gets the label and a sorted annotation; other nodes get deletions', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const ips = [held('web', 'b', 'n1', '203.0.113.2'), held('api', 'a', 'n1', '203.0.113.1'), held('web', 'c', 'n2', '203.0.113.3'), held('web', 'd', undefined, '203.0.113.4')];
  const [n1, n2, n3] = world.nodes as [Node, Node, Node];
  t.same(await nodeSync(world.app, n1, ips), {
    labels: { [HOLDER_LABEL]: 'true' },
    annotations: { [HOLDS_ANNOTATION]: 'api/a=203.0.113.1,web/b=203.0.113.2' },
    attachments: [],
  });
  t.same((await nodeSync(world.app, n2, ips)).annotations, { [HOLDS_ANNOTATION]: 'web/c=203.0.113.3' });
  t.same(await nodeSync(world.app, n3, ips), { labels: { [HOLDER_LABEL]: null }, annotations: { [HOLDS_ANNOTATION]: null }, attachments: [] }, 'a node holding nothing loses both');
  const raw = await world.app.inject({ method: 'POST', url: '/node/sync', payload: { object: n1, attachments: {}, related: {} } });
  t.equal(raw.statusCode, 200, 'no related group at all is fine');
  t.notMatch(raw.payload, /"status"/, 'the Node status is never part of the answer');
});

t.test('the marks change only when what the node holds changes', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const n1 = world.nodes[0] as Node;
  const base = await nodeSync(world.app, n1, [held('ns', 'a', 'n1', '203.0.113.1')]);
  // Everything else in a RoutedIP status churns: conditions, steps, pending actions, transition times.
  for (const extra of [
    { conditions: [{ type: 'Ready', status: 'False', reason: 'AssignPending', message: 'x', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 }] },
    { steps: [{ name: 'AssignRoutedIP', outcome: 'pending', detail: 'moving' }], electedNode: 'n2', pendingAction: { id: '7', type: 'assign' } },
    { observedGeneration: 9, provider: 'memory' },
  ]) {
    t.same(await nodeSync(world.app, n1, [held('ns', 'a', 'n1', '203.0.113.1', extra)]), base, `unchanged with ${Object.keys(extra).join(',')}`);
  }
  t.not(JSON.stringify(await nodeSync(world.app, n1, [held('ns', 'a', 'n2', '203.0.113.1')])), JSON.stringify(base), 'the holder moved away');
  t.not(JSON.stringify(await nodeSync(world.app, n1, [held('ns', 'a', 'n1', '203.0.113.9')])), JSON.stringify(base), 'the address changed');
});

t.test('no sync loop: marks are written once, then the RoutedIP and the Nodes stay still', async (t) => {
  const world = await new ScriptedWorld().start(t);
  // A selector on the holder label would turn holding into ineligibility: it must not be read.
  world.parent = { ...world.parent, spec: { ...world.parent.spec!, nodeSelector: { matchExpressions: [{ key: HOLDER_LABEL, operator: 'DoesNotExist' }] } } };
  for (let i = 0; i < 5; i++) await world.sync();
  const holder = world.status.node;
  t.ok(holder, 'the IP landed');
  t.same(await decorateNodes(world, [world.parent]), [holder], 'only the holder is written');
  t.equal(world.nodes.find((n) => n.metadata.name === holder)?.metadata.labels?.[HOLDER_LABEL], 'true');

  // The Node updates re-sync the RoutedIP (Nodes are its related objects): same status, no cloud write.
  const before = JSON.stringify(world.status);
  world.cloud.clearCalls();
  const answer = await world.sync();
  t.equal(JSON.stringify(answer.body.status), before, 'same status bytes with the labelled node');
  t.equal(answer.body.resyncAfterSeconds, READY_RESYNC_SECONDS, 'only the drift check');
  t.same(world.writes(), [], 'no cloud write');
  t.same(await decorateNodes(world, [world.parent]), [], 'steady state: no Node is written');

  // The holder fails: the IP moves, and exactly the old and new holders are written.
  world.nodes = world.nodes.map((n) => (n.metadata.name === holder ? (notReady()(n), n) : n));
  for (let i = 0; i < 5; i++) await world.sync();
  const next = world.status.node;
  t.ok(next && next !== holder, `moved from ${holder} to ${next}`);
  t.same(await decorateNodes(world, [world.parent]), [holder, next].sort(), 'old and new holder written, nothing else');
  t.equal(world.nodes.find((n) => n.metadata.name === holder)?.metadata.labels?.[HOLDER_LABEL], undefined, 'the old holder lost the label');
  t.same(await decorateNodes(world, [world.parent]), [], 'and it is still again');
});

t.test('customize relates every RoutedIP of the cluster', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const res = await world.app.inject({ method: 'POST', url: '/node/customize', payload: { parent: world.nodes[0] } });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { relatedResources: [{ apiVersion: 'routedip.io/v1alpha1', resource: 'routedips' }] });
});

t.test('a malformed request is a 400 naming the problem', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const res = await world.app.inject({ method: 'POST', url: '/node/sync', payload: { object: { metadata: {} } } });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'INVALID_REQUEST', message: /name/ });
});
