/**
 * The orphan sweep on Hetzner Cloud, through the issuer controller against the fake API with the
 * production client configuration and the production grace (600 s, on the test clock). The project
 * is shared: Floating IPs of another cluster, of another namespace, made before cluster labels,
 * protected, assigned, and people's own; only this cluster's unassigned, unprotected orphan of the
 * issuer's namespace is ever deleted.
 */
import t from 'tap';
import { issuer, secret } from '../fixtures/k8s.js';
import { IssuerDriver, quietAndSteady } from '../helpers/issuer-driver.js';
import { HetznerWorld } from './world.js';

const CLUSTER = 'prod-eu';
const GRACE = 600;
const marks = (uid: string, namespace?: string, cluster?: string) => ({
  'routedip.io/uid': uid,
  'routedip.io/managed-by': 'routedip-operator',
  ...(namespace !== undefined ? { 'routedip.io/namespace': namespace } : {}),
  ...(cluster !== undefined ? { 'routedip.io/cluster': cluster } : {}),
});

t.test('only this cluster\'s unassigned, unprotected orphan of the namespace is deleted, after the grace', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 }, { clusterName: CLUSTER });
  await w.syncUntilReady();
  t.match(w.floatingIP?.labels, { 'routedip.io/uid': 'uid-public', 'routedip.io/namespace': 'ingress', 'routedip.io/cluster': CLUSTER }, 'a created Floating IP carries the cluster and namespace labels');
  const m = w.fake.model;
  const orphan = m.addFloatingIP('fsn1', { labels: marks('uid-gone', 'ingress', CLUSTER), description: 'RoutedIP ingress/gone' });
  const isProtected = m.addFloatingIP('fsn1', { labels: marks('uid-kept', 'ingress', CLUSTER), protection: { delete: true } });
  const assigned = m.addFloatingIP('fsn1', { labels: marks('uid-busy', 'ingress', CLUSTER), server: 103 });
  const legacy = m.addFloatingIP('fsn1', { labels: marks('uid-old'), description: 'RoutedIP ingress/old' });
  const otherCluster = m.addFloatingIP('fsn1', { labels: marks('uid-theirs', 'ingress', 'staging') });
  const otherNamespace = m.addFloatingIP('fsn1', { labels: marks('uid-web', 'web', CLUSTER) });
  const foreign = m.addFloatingIP('fsn1', { description: 'office VPN' });
  const driver = new IssuerDriver(w.app, issuer('cloud', w.issuerSpec()), w.secrets);
  const writes = w.fake.calls.length;

  const first = await driver.sync([w.parent]);
  t.equal(first.code, 200);
  t.same(driver.orphanAddresses, [orphan.ip, isProtected.ip, assigned.ip, legacy.ip].sort(), 'this cluster\'s and the unmarked-cluster ones of the namespace; never another cluster\'s or namespace\'s, never a foreign one');
  t.match(first.status.orphans?.find((o) => o.id === String(orphan.id)), { owner: 'ingress/gone' });
  t.match(first.status.orphans?.find((o) => o.id === String(isProtected.id)), { owner: 'uid uid-kept' });
  t.match(driver.orphansFound, { status: 'True', reason: 'OrphansFound' });
  t.equal(await driver.metric('routedip_orphans', 'hetzner'), 4);

  w.clock.advance(GRACE - 1);
  await driver.sync([w.parent]);
  t.equal(w.fake.calls.length, writes, 'nothing deleted within the grace');

  w.clock.advance(1);
  await driver.sync([w.parent]);
  t.same(w.fake.calls.slice(writes).map((c) => `${c.method} ${c.path}`), [`DELETE /v1/floating_ips/${orphan.id}`], 'one delete');
  const left = [...m.floatingIPs.values()].map((f) => f.ip).sort();
  t.same(left, [w.status.address, isProtected.ip, assigned.ip, legacy.ip, otherCluster.ip, otherNamespace.ip, foreign.ip].sort() as string[]);
  t.same(driver.orphanAddresses, [isProtected.ip, assigned.ip, legacy.ip].sort());
  t.equal(await driver.metric('routedip_orphans_released_total', 'hetzner'), 1);

  w.clock.advance(GRACE * 2);
  await quietAndSteady(t, driver, [w.parent], () => w.fake.calls.length, 'protected, assigned and unmarked-cluster orphans are never deleted');
});

t.test('a RoutedIP the issuer\'s view does not show yet keeps its Floating IP', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 }, { clusterName: CLUSTER });
  // Created (answer lost, not assigned yet) by a RoutedIP this issuer's view does not show yet.
  const fresh = w.fake.model.addFloatingIP('fsn1', { labels: marks('uid-fresh', 'ingress', CLUSTER), description: 'RoutedIP ingress/fresh' });
  const driver = new IssuerDriver(w.app, issuer('cloud', w.issuerSpec()), w.secrets);
  const writes = w.fake.calls.length;
  await driver.sync([]);
  t.same(driver.orphanAddresses, [fresh.ip], 'a stale view reports it');
  w.clock.advance(GRACE - 60);
  const fresher = { ...w.parent, metadata: { ...w.parent.metadata, name: 'fresh', uid: 'uid-fresh' } };
  await driver.sync([fresher]);
  t.same(driver.orphanAddresses, [], 'seen: its record goes');
  w.clock.advance(GRACE);
  await driver.sync([]);
  t.equal(w.fake.calls.length, writes, 'the grace restarts: nothing deleted');
  t.ok(w.fake.model.floatingIPByAddress(fresh.ip), 'still there');
});

t.test('rules: only this cluster\'s marked pair of a gone RoutedIP of the namespace is removed, after the grace; every other rule is sent back as read', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 }, { clusterName: CLUSTER });
  const rule = (description: string, port: number, sources = ['0.0.0.0/0']) => ({ description, direction: 'in', port: String(port), protocol: 'tcp', source_ips: sources, destination_ips: [] });
  const gone = 'routedip:ingress/gone';
  (w.firewall.rules as unknown[]).push(
    rule(`${gone}@${CLUSTER}`, 443), // a gone RoutedIP's rule the live one needs too
    rule(`${gone}@${CLUSTER}`, 8080, ['0.0.0.0/0', '::/0']), // the orphan: both its sources
    rule(`${gone}@staging`, 8081), // another cluster's
    rule(`routedip:web/gone@${CLUSTER}`, 8082), // another namespace's
    rule(gone, 8083), // made before cluster marks
    rule(`routedip:ingress/public@${CLUSTER}`, 8084), // a RoutedIP that exists
  );
  await w.syncUntilReady();
  const before = JSON.stringify(w.firewall.rules);
  const driver = new IssuerDriver(w.app, issuer('cloud', w.issuerSpec()), w.secrets);
  const writes = w.fake.calls.length;

  const first = await driver.sync([w.parent]);
  t.equal(first.code, 200);
  t.same(driver.orphanRules, ['tcp/8080 0.0.0.0/0 ingress/gone', 'tcp/8080 ::/0 ingress/gone', 'tcp/8083 0.0.0.0/0 ingress/gone'], 'this cluster\'s orphan pairs and the one made before cluster marks');
  t.match(first.status.orphans?.find((o) => o.rule === 'tcp/8080 ::/0'), { kind: 'rule', firewall: String(w.firewall.id), owner: 'ingress/gone' });
  t.equal(await driver.metric('routedip_orphans', 'hetzner', 'rule'), 3);

  w.clock.advance(GRACE - 1);
  await driver.sync([w.parent]);
  t.equal(w.fake.calls.length, writes, 'nothing removed within the grace');
  w.clock.advance(1);
  await driver.sync([w.parent]);
  t.same(w.fake.calls.slice(writes).map((c) => c.operation), ['set_rules', 'set_rules'], 'one rewrite per pair');
  const expected = (JSON.parse(before) as Array<{ port: string | null }>).filter((r) => r.port !== '8080');
  t.equal(JSON.stringify(w.firewall.rules), JSON.stringify(expected), 'only the orphan rule is gone; every other rule byte for byte');
  t.same(driver.orphanRules, ['tcp/8083 0.0.0.0/0 ingress/gone']);
  t.equal(await driver.metric('routedip_orphans_released_total', 'hetzner', 'rule'), 2);

  w.clock.advance(GRACE * 2);
  await quietAndSteady(t, driver, [w.parent], () => w.fake.calls.length, 'an old-form rule, another cluster\'s, another namespace\'s and a live one\'s are never removed');
});

t.test('two issuers of one project in one namespace, with tokens of their own: each orphan counts once, its removal once, even when both sweeps run at once', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 }, { clusterName: CLUSTER });
  w.fake.tokens.add('hcloud-second-token');
  const orphan = w.fake.model.addFloatingIP('fsn1', { labels: marks('uid-gone', 'ingress', CLUSTER), description: 'RoutedIP ingress/gone' });
  (w.firewall.rules as unknown[]).push({ description: `routedip:ingress/gone@${CLUSTER}`, direction: 'in', port: '8080', protocol: 'tcp', source_ips: ['0.0.0.0/0'], destination_ips: [] });
  const a = new IssuerDriver(w.app, issuer('cloud', w.issuerSpec()), w.secrets);
  const spec = w.issuerSpec();
  const b = new IssuerDriver(w.app, issuer('cloud-b', { ...spec, hetzner: { ...spec.hetzner!, tokenSecretRef: { name: 'hcloud-second' } } }), [secret('hcloud-second', { token: 'hcloud-second-token' })]);
  // Both recorded both orphans almost a grace ago: due for both within their listings' life.
  const since = new Date(w.clock.now().getTime() - (GRACE - 10) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const pair = `${w.firewall.id} tcp/8080 0.0.0.0/0`;
  const records = [
    { kind: 'address' as const, id: String(orphan.id), address: orphan.ip, owner: 'ingress/gone', since },
    { kind: 'rule' as const, id: pair, firewall: String(w.firewall.id), rule: 'tcp/8080 0.0.0.0/0', owner: 'ingress/gone', since },
  ];
  for (const d of [a, b]) d.parent = { ...d.parent, status: { observedGeneration: 1, routedIPs: 0, conditions: [], orphans: records } };
  await a.sync([]);
  await b.sync([]);
  t.same([a.orphanAddresses, b.orphanAddresses], [[orphan.ip], [orphan.ip]], 'both issuers find the Floating IP');
  t.same([a.orphanRules, b.orphanRules], [['tcp/8080 0.0.0.0/0 ingress/gone'], ['tcp/8080 0.0.0.0/0 ingress/gone']], 'and the rule pair');
  t.same([await a.metric('routedip_orphans', 'hetzner', 'address'), await a.metric('routedip_orphans', 'hetzner', 'rule')], [1, 1], 'one object each, whichever token listed it');

  w.clock.advance(10);
  const writes = w.fake.calls.length;
  // Both due at once: the two removals of each orphan take turns, and the second read finds it gone.
  await Promise.all([a.sync([]), b.sync([])]);
  t.same(w.fake.calls.slice(writes).map((c) => c.method).sort(), ['DELETE', 'POST'], 'one delete of the Floating IP, one rule write');
  t.same([await a.metric('routedip_orphans_released_total', 'hetzner', 'address'), await a.metric('routedip_orphans_released_total', 'hetzner', 'rule')], [1, 1], 'each removal counted once');
  t.same([a.orphanAddresses, b.orphanAddresses, a.orphanRules, b.orphanRules], [[], [], [], []]);
  t.same([await a.metric('routedip_orphans', 'hetzner', 'address'), await a.metric('routedip_orphans', 'hetzner', 'rule')], [0, 0]);
});
