/**
 * Cloud Firewall membership on DigitalOcean (issue 8 item 3): a firewall applies to at most 10
 * individual Droplets, and the add past that is refused with a 422 that must read as a clear,
 * fixable condition (FirewallDropletLimit, pointing at tag membership), not an invalid request.
 */
import t from 'tap';
import { BASTION, condition, DigitalOceanWorld } from './world.js';

t.test('droplet-id membership: a firewall already at 10 Droplets gives FirewallDropletLimit, pointing at firewallTag', async (t) => {
  const w = await new DigitalOceanWorld().start(t);
  // Nine more foreign Droplets: with the bastion, the firewall is full.
  const foreign = Array.from({ length: 9 }, (_, i) => w.fake.model.addDroplet(200 + i, 'nyc3', `web-${i}`).id);
  w.firewall.dropletIds.push(...foreign);
  const answer = await w.sync();
  t.equal(answer.statusCode, 200);
  const step = w.status.steps.find((s) => s.name === 'AddRoutedIPFirewallNode');
  t.match(step, { outcome: 'failed', detail: /^FirewallDropletLimit: / });
  t.match(condition(w.status, 'FirewallReady'), { status: 'False', reason: 'FirewallDropletLimit', message: /firewallTag/ });
  t.match(condition(w.status, 'Ready'), { status: 'False', reason: 'FirewallDropletLimit' });
  t.same(w.firewall.dropletIds.sort((a, b) => a - b), [BASTION, ...foreign].sort((a, b) => a - b), 'nothing of the firewall changed');
  t.notOk(w.fake.mutations().includes('POST /v2/reserved_ips'), 'no address before the node is protected');
  t.same(w.fake.violations, []);
});
