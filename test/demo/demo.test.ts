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

t.test('the Service annotation path: the RoutedIP is asked for, the address written back, the holder labelled', async (t) => {
  const { ok, lines } = await demo(t, memoryDemoCloud());
  t.equal(ok, true);
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const annotate = at(/^\n?=== 1\. kubectl annotate service ingress-nginx routedip\.io\/issuer=edge/);
  const created = at(/^POST \/service\/sync → attachment RoutedIP ingress\/ingress-nginx \(serviceRef ingress-nginx, issuer edge\) created$/);
  const assigned = at(/cloud ← assignRoutedIP\(203\.0\.113\.1 -> node-/);
  const written = at(/^POST \/service\/sync → Service annotations now: .*routedip\.io\/address=203\.0\.113\.1/);
  const labelled = at(/^POST \/node\/sync → node-[abc]: label routedip\.io\/holder=true, annotation routedip\.io\/holds=ingress\/ingress-nginx=203\.0\.113\.1$/);
  t.ok(annotate >= 0 && annotate < created && created < assigned && assigned < written && written < labelled, 'annotate → RoutedIP → IP lands → address on the Service → holder label, in that order');
  const holders = lines.filter((l) => l.startsWith('  kubectl get nodes -l routedip.io/holder: '));
  const first = holders[0]?.split(': ')[1];
  t.match(first, /^node-[abc]$/, 'one holder after act 1');
  t.match(lines[assigned], new RegExp(`-> ${first}\\)`), 'the labelled node is the one the cloud points at');
  t.not(holders[1], holders[0], 'the label follows the failover');
  t.equal(holders.at(-1), '  kubectl get nodes -l routedip.io/holder: No resources found', 'no holder once the namespace is gone');
});

t.test('deleting the namespace: the issuer is held until the RoutedIP has cleaned the cloud, then everything goes', async (t) => {
  const { ok, lines } = await demo(t, memoryDemoCloud());
  t.equal(ok, true);
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const start = at(/^\n?=== 4\. kubectl delete namespace ingress/);
  const held = at(/^POST \/issuer\/finalize → .*finalized=false \(RoutedIPIssuer ingress\/edge is kept until 1 RoutedIP using it is gone: ingress\/ingress-nginx\)$/);
  const released = at(/cloud ← releaseRoutedIP\(203\.0\.113\.1\)/);
  const let_go = at(/^POST \/issuer\/finalize → .*finalized=true/);
  t.ok(start >= 0 && start < held && held < released && released < let_go, 'held, the cloud cleaned, then the issuer let go');
  t.ok(lines.some((l) => l === 'namespace ingress: the Service, the RoutedIP, the issuer are all let go; no node is labelled routedip.io/holder.'));
});
