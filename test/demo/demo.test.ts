/**
 * `npm run demo` tells the truth about the cloud: its "cloud:" lines show the simulated account
 * the demo's issuer really uses, and its closing sentence is a check that fails loudly when the
 * cloud is not back as it was.
 */
import t, { type Test } from 'tap';
import { cloudDifference } from '../../src/demo/check.js';
import { memoryDemoCloud, type DemoCloud } from '../../src/demo/clouds.js';
import { runDemo } from '../../src/demo/run.js';

/** Runs the demo with console.log captured; returns its result and the printed lines. */
async function demo(t: Test, cloud: DemoCloud): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  t.teardown(() => {
    console.log = log;
  });
  const ok = await runDemo(cloud);
  console.log = log;
  return { ok, lines };
}

t.test('the cloud lines show the address where it is, and the clean cloud is checked', async (t) => {
  const { ok, lines } = await demo(t, memoryDemoCloud());
  t.equal(ok, true);
  const cloud = lines.filter((l) => l.startsWith('  cloud: addresses:'));
  t.same(cloud[0], '  cloud: addresses: none', 'before the RoutedIP');
  t.match(cloud[1], /^ {2}cloud: addresses: 203\.0\.113\.1→node-[abc]$/, 'after act 1 the address is on a node');
  t.match(cloud[2], /^ {2}cloud: addresses: 203\.0\.113\.1→node-[abc]$/, 'after the failover');
  t.not(cloud[2], cloud[1], 'the failover moved it');
  t.same(cloud.at(-1), '  cloud: addresses: none', 'released at the end');
  t.ok(lines.some((l) => /cloud ← assignRoutedIP\(203\.0\.113\.1 -> node-/.test(l)), 'the cloud writes are shown');
  t.match(lines.at(-1), /checked: .*nothing this RoutedIP created or added is left in the cloud/);
});

t.test('an address the cloud still shows after an acknowledged release makes the demo fail loudly', async (t) => {
  const honest = memoryDemoCloud();
  // The release is acknowledged (the service sees the address gone), but the cloud still lists it.
  const released = () => honest.writes().some((w) => w.startsWith('releaseRoutedIP('));
  const state = () => honest.state().map((l) => (released() && l === 'addresses: none' ? 'addresses: 203.0.113.1→unassigned' : l));
  const { ok, lines } = await demo(t, { ...honest, state });
  t.equal(ok, false, 'the demo fails');
  t.ok(lines.some((l) => l.trim() === 'FAILED: finalized, but the cloud is not as it was before the RoutedIP:'), 'and says so');
  t.ok(lines.includes('  left in the cloud: addresses: 203.0.113.1→unassigned'), 'naming what was left');
  t.notOk(lines.some((l) => l.includes('nothing this RoutedIP created or added is left')), 'without claiming a clean cloud');
});

t.test('cloudDifference names what was left and what is gone', async (t) => {
  t.same(cloudDifference(['addresses: none', 'firewall f: no rules'], ['addresses: none', 'firewall f: no rules']), { left: [], gone: [] });
  t.same(cloudDifference(['addresses: none', 'firewall f: no rules'], ['addresses: 203.0.113.1→unassigned', 'firewall f: no rules']), {
    left: ['addresses: 203.0.113.1→unassigned'],
    gone: ['addresses: none'],
  });
});
