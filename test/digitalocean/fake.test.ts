/**
 * The fake DigitalOcean API itself: it rejects (and records) requests the official spec
 * rejects, answers with spec-conforming objects, and models the API's rules.
 */
import t from 'tap';
import axios from 'axios';
import { matchOperation, OPERATIONS, OUTSIDE_BUNDLE } from '../fakes/digitalocean/operations.js';
import { SPEC_ABSENT } from '../fakes/digitalocean/server.js';
import { DigitalOceanSpec } from '../fakes/digitalocean/spec.js';
import { startFake, TOKEN } from './helpers.js';

const client = (endpoint: string, token = TOKEN) =>
  axios.create({ baseURL: endpoint, headers: { authorization: `Bearer ${token}` }, validateStatus: () => true });

t.test('the operations the fake routes are the spec\'s, method and path', { skip: SPEC_ABSENT ?? false }, async (t) => {
  const spec = new DigitalOceanSpec();
  for (const [id, [method, template]] of Object.entries(OPERATIONS)) {
    if (OUTSIDE_BUNDLE.has(id)) {
      t.notOk(spec.operation(method, template.replace(/\{[^}]+\}/g, '1')), `${id}: not in the shared bundle (Tags API), routed unvalidated`);
      continue;
    }
    const sample = template.replace(/\{[^}]+\}/g, '1');
    t.same(spec.operation(method, sample), matchOperation(method, sample), `${id}: ${method} ${template}`);
    t.equal(matchOperation(method, sample)?.operationId, id);
  }
});

t.test('a request the spec rejects is answered 400 and recorded as a violation', { skip: SPEC_ABSENT ?? false }, async (t) => {
  const fake = await startFake(t);
  const fw = fake.model.addFirewall('public');
  const http = client(fake.endpoint);
  const noSources = await http.post(`/firewalls/${fw}/rules`, { inbound_rules: [{ protocol: 'tcp', ports: '80' }] });
  t.equal(noSources.status, 400);
  const badId = await http.post('/reserved_ips', { droplet_id: '101' });
  t.equal(badId.status, 400);
  const perPage = await http.get('/reserved_ips', { params: { per_page: 500 } });
  t.equal(perPage.status, 400);
  t.equal(fake.violations.length >= 3, true, 'each one recorded');
  t.match(fake.violations.join('\n'), /sources/);
  t.same(fake.calls.filter((c) => c.status !== 400), [], 'nothing was changed');
  fake.violations.length = 0; // seen: do not fail the teardown check
});

t.test('answers carry complete objects, rate-limit headers, and the account rules', async (t) => {
  const fake = await startFake(t, { actionReads: 1, reservedIPLimit: 2 });
  const http = client(fake.endpoint);
  const created = await http.post('/reserved_ips', { droplet_id: 101 });
  t.equal(created.status, 202);
  t.match(created.data, { reserved_ip: { locked: true, droplet: null, region: { slug: 'nyc3', available: true } }, links: { actions: [{ rel: 'assign_ip' }] } });
  t.match(created.headers, { 'ratelimit-limit': '250', 'ratelimit-remaining': /^\d+$/, 'ratelimit-reset': /^\d+$/ });
  const ip = created.data.reserved_ip.ip as string;
  t.equal((await http.delete(`/reserved_ips/${ip}`)).status, 422, 'locked: pending event');
  const got = await http.get(`/reserved_ips/${ip}`);
  t.equal(got.data.reserved_ip.droplet, null, 'the droplet changes only when the action completed');
  const after = await http.get(`/reserved_ips/${ip}`);
  t.match(after.data.reserved_ip, { locked: false, droplet: { id: 101, memory: Number, networks: Object } });
  t.equal((await http.post('/reserved_ips', { droplet_id: 101 })).status, 422, 'one reserved IP per droplet');
  t.equal((await http.post('/reserved_ips', { region: 'nyc3' })).status, 202);
  t.match((await http.post('/reserved_ips', { region: 'nyc3' })).data, { id: 'unprocessable_entity', message: /maximum/ }, 'account limit');
  t.equal((await client(fake.endpoint, 'wrong').get('/reserved_ips')).status, 401);
  fake.rate.remaining = 0;
  const limited = await http.get('/reserved_ips');
  t.equal(limited.status, 429);
  t.equal(limited.headers['retry-after'], '30');
});

t.test('a lost response performs the change, then drops the connection', async (t) => {
  const fake = await startFake(t);
  fake.fault('reservedIPs_create', { lose: true });
  const err = await client(fake.endpoint).post('/reserved_ips', { region: 'nyc3' }).catch((e: Error & { code?: string }) => e);
  t.type(err, Error);
  t.equal(fake.model.reservedIPs.size, 1, 'the IP exists');
  t.same(fake.calls.map((c) => c.status), ['lost']);
});
