/**
 * A stale parent (metacontroller#1072): Metacontroller syncs a RoutedIP whose informer has not
 * seen the previous status write yet, and writes the answer over the newer status. Whatever sync
 * meets the stale parent, the firewall ownership record must survive it: after a port change, a
 * move and a Delete finalize, nothing this RoutedIP added is left in the cloud.
 */
import t from 'tap';
import type { RoutedIPStatus } from '../../src/schemas/routed-ip.js';
import { ACCOUNT, FIREWALL, ScriptedWorld } from './world.js';

const notReady = (w: ScriptedWorld, name: string) =>
  (w.nodes = w.nodes.map((n) => (n.metadata.name === name ? { ...n, status: { conditions: [{ type: 'Ready', status: 'False' }] } } : n)));

/** Syncs until Ready (at most 6 calls). */
async function untilReady(w: ScriptedWorld): Promise<void> {
  for (let i = 0; i < 6; i++) if ((await w.syncOnce()).body.status.conditions.find((c) => c.type === 'Ready')?.status === 'True') return;
  throw new Error(`not Ready: ${JSON.stringify(w.status.steps)}`);
}

/** Runs `fresh` syncs, then one on the status before the last one (stale), written over it. */
async function withStaleSync(w: ScriptedWorld, fresh: number): Promise<void> {
  const history: Array<RoutedIPStatus | undefined> = [w.parent.status as RoutedIPStatus | undefined];
  for (let i = 0; i < fresh; i++) {
    await w.syncOnce();
    history.push(w.status);
  }
  const stale = history[history.length - 2];
  w.parent = { ...w.parent, status: stale };
  await w.syncOnce();
}

for (const fresh of [1, 2, 3]) {
  t.test(`a stale parent after sync ${fresh}: the port change, the move and the Delete finalize leave nothing of ours`, async (t) => {
    const w = await new ScriptedWorld().start(t);
    await withStaleSync(w, fresh);
    await untilReady(w);
    const holder = w.status.node as string;
    t.ok(holder, 'Ready on a node');

    // The port change meets a stale parent too: the sync after the one that claimed tcp/8443.
    w.ports = [443, 8443];
    await withStaleSync(w, 2);
    await untilReady(w);
    t.same(w.cloud.observedRules(ACCOUNT, FIREWALL)?.map((r) => r.port), [443, 8443], 'tcp/80 was removed, tcp/8443 opened');

    notReady(w, holder);
    await withStaleSync(w, 1);
    await untilReady(w);
    t.not(w.status.node, holder, 'moved');
    t.notOk(w.cloud.snapshot(ACCOUNT).firewalls.find((f) => f.name === FIREWALL)?.nodes.includes(holder), 'the old holder left the firewall');

    let finalized = false;
    for (let i = 0; i < 6 && !finalized; i++) finalized = (await w.finalize()).body.finalized === true;
    t.ok(finalized, 'finalized');
    const snap = w.cloud.snapshot(ACCOUNT);
    t.same(snap.ips, [], 'the address is released');
    t.same(snap.firewalls.find((f) => f.name === FIREWALL)?.nodes, [], 'no node of ours is left in the firewall');
    t.same(w.cloud.observedRules(ACCOUNT, FIREWALL), [], 'no rule of ours is left open');
  });
}
