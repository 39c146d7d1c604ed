/**
 * The issuer controller on Hetzner Cloud: `status` of a RoutedIPIssuer with a hetzner block comes
 * from one cheap read with its token (the named Firewall), cached; a wrong token is reported with
 * its reason and never shown.
 */
import t from 'tap';
import { issuer, NAMESPACE } from '../fixtures/k8s.js';
import type { RoutedIPIssuerStatus } from '../../src/schemas/routed-ip.js';
import type { Secret } from '../../src/schemas/kubernetes.js';
import { tokenSecret } from './helpers.js';
import { HetznerWorld } from './world.js';

async function issuerStatus(w: HetznerWorld, secrets: Secret[]) {
  const res = await w.app.inject({
    method: 'POST',
    url: '/issuer/sync',
    payload: {
      parent: issuer('hetzner-fsn1', w.issuerSpec()),
      children: {},
      related: { 'RoutedIP.routedip.io/v1alpha1': {}, 'Secret.v1': Object.fromEntries(secrets.map((s) => [`${NAMESPACE}/${s.metadata.name}`, s])) },
      finalizing: false,
    },
  });
  return { code: res.statusCode, raw: res.payload, status: (res.json() as { status: RoutedIPIssuerStatus }).status };
}

t.test('a Hetzner issuer: Ready from one read of the Firewall with its token, cached', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  const first = await issuerStatus(w, w.secrets);
  t.equal(first.code, 200);
  t.match(first.status, { provider: 'hetzner', routedIPs: 0 });
  t.match(first.status.conditions, [{ type: 'Ready', status: 'True', reason: 'CredentialsWork' }, { type: 'FirewallFound', status: 'True' }]);
  const reads = w.fake.requests.length;
  const sweep = w.fake.requests.filter((r) => r.startsWith('GET /v1/floating_ips'));
  t.equal(sweep.length, 1, `the orphan sweep lists the labelled Floating IPs once: ${sweep.join(', ')}`);
  t.ok(reads - sweep.length >= 1 && reads - sweep.length <= 2, `one cheap check (${reads - sweep.length} requests: the Firewall and its running actions)`);
  t.same(w.fake.calls, [], 'no write');
  await issuerStatus(w, w.secrets);
  t.equal(w.fake.requests.length, reads, 'cached: no second read');
});

t.test('a Hetzner issuer with a wrong token: Ready=False InvalidCredentials, the token nowhere', async (t) => {
  const w = await new HetznerWorld().start(t, { actionReads: 0 });
  const wrong = 'not-the-project-token-0123456789abcdef';
  const res = await issuerStatus(w, [tokenSecret(wrong)]);
  t.equal(res.code, 200);
  t.match(res.status.conditions, [{ type: 'Ready', status: 'False', reason: 'InvalidCredentials' }]);
  t.notMatch(res.raw, wrong);
  t.notMatch(w.logs.join('\n'), wrong);
});
