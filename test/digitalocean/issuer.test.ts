/**
 * The DigitalOcean issuer called through its interface against the fake API: node mapping,
 * create/assign/unassign/release with asynchronous actions, recovery without tags, errors.
 */
import t from 'tap';
import { IssuerAuthError, IssuerBusyError, IssuerInvalidError, IssuerQuotaError, IssuerUnavailableError } from '../../src/issuers/errors.js';
import type { FindRoutedIPQuery } from '../../src/issuers/issuer.js';
import { node, withProviderID } from '../fixtures/k8s.js';
import { intentFor, makeIssuer, OWNER, startFake, target, thrown } from './helpers.js';

const query = (extra: Partial<FindRoutedIPQuery> = {}): FindRoutedIPQuery => ({
  owner: OWNER, nodes: [target(101), target(102)], foreignAddresses: [], ...extra,
});

t.test('nodeTarget parses digitalocean://<id> and nothing else', async (t) => {
  const fake = await startFake(t);
  const issuer = makeIssuer(fake);
  t.same(issuer.nodeTarget(node('n1', withProviderID('digitalocean://101'))), { node: 'n1', id: '101' });
  for (const bad of ['digitalocean://abc', 'digitalocean://', 'digitalocean://0', 'digitalocean://-3', 'aws:///us-east-1a/i-0abc', 'digitalocean://12a']) {
    t.equal(issuer.nodeTarget(node('n1', withProviderID(bad))), undefined, bad);
  }
  t.equal(issuer.nodeTarget(node('n1')), undefined, 'no providerID');
  t.same(fake.requests, [], 'pure: no API call');
});

t.test('create on the elected droplet, pending until the assign action completes', async (t) => {
  const fake = await startFake(t, { actionReads: 3 });
  const issuer = makeIssuer(fake);
  t.equal(await issuer.findRoutedIP(query()), undefined, 'nothing yet');
  const ip = await issuer.createRoutedIP(OWNER, target(101), intentFor(fake, 101));
  t.match(ip, { address: /^198\.51\.100\./, pendingAction: { type: 'assign' } });
  t.equal(ip.holder, undefined, 'the droplet changes only when the action completes');
  const again = await issuer.findRoutedIP(query({ lastKnownAddress: ip.address }));
  t.same(again?.pendingAction, ip.pendingAction, 'the same action is reported while it runs');
  t.same(await issuer.assignRoutedIP(again!, target(101)), { done: false, action: ip.pendingAction }, 'no post while locked');
  fake.model.completeActions();
  const done = await issuer.findRoutedIP(query({ lastKnownAddress: ip.address }));
  t.same(done, { address: ip.address, id: ip.address, holder: '101' });
  t.same(await issuer.assignRoutedIP(done!, target(101)), { done: true }, 'already there');
  t.same(fake.mutations(), ['POST /v2/reserved_ips'], 'exactly one mutating call');
  t.same(fake.violations, []);
});

t.test('a lost create answer never leads to a second IP: the intent recorded before it finds it', async (t) => {
  const fake = await startFake(t, { actionReads: Infinity });
  fake.fault('reservedIPs_create', { lose: true });
  const issuer = makeIssuer(fake);
  const intent = intentFor(fake, 101);
  const lost = await thrown(() => issuer.createRoutedIP(OWNER, target(101), intent));
  t.type(lost, IssuerUnavailableError);
  t.equal(fake.model.reservedIPs.size, 1, 'the IP exists although the answer was lost');
  t.equal(await makeIssuer(fake).findRoutedIP(query({ intent })), undefined, 'settling, not on a droplet yet: not claimed');
  const busy = await thrown(() => makeIssuer(fake).createRoutedIP(OWNER, target(101), intent));
  t.type(busy, IssuerBusyError);
  t.equal(busy.reason, 'ReservedIPSettling', 'a new IP still settling may be ours: no second create');
  fake.model.completeActions();
  const found = await makeIssuer(fake).findRoutedIP(query({ intent }));
  t.equal(found?.holder, '101', 'found again on the intent droplet');
  t.equal(await makeIssuer(fake).findRoutedIP(query()), undefined, 'without the intent nothing is claimed');
  t.equal(fake.model.reservedIPs.size, 1, 'still one IP');
  t.same(fake.violations, []);
});

t.test('a foreign IP is never claimed: settling, on a bastion, on a cluster droplet, or known before the intent', async (t) => {
  const fake = await startFake(t, { actionReads: Infinity });
  fake.model.addDroplet(150, 'nyc3', 'bastion');
  const onNode = fake.model.addReservedIP('nyc3', 102);
  const people = fake.model.addReservedIP('nyc3', null);
  const intent = intentFor(fake, 101);
  const issuer = makeIssuer(fake);
  // Someone assigns their IP to a bastion: locked with no droplet while the action runs.
  await fake.model.startAction('assign_ip', 'nyc3', () => void (fake.model.reservedIPs.get(people)!.dropletId = 150), people, 150);
  t.equal(await issuer.findRoutedIP(query()), undefined, 'no status, no intent: nothing is ours');
  t.equal(await makeIssuer(fake).findRoutedIP(query({ intent })), undefined, 'an intent claims nothing that is not on its droplet');
  fake.model.completeActions();
  t.equal(await makeIssuer(fake).findRoutedIP(query({ lastKnownAddress: people })), undefined, 'a recorded address now on a bastion is not ours any more');
  // Someone assigns an existing IP to the intent's droplet: it existed before the intent.
  fake.model.reservedIPs.get(onNode)!.dropletId = 101;
  t.equal(await makeIssuer(fake).findRoutedIP(query({ intent })), undefined, 'known before the intent: not ours');
  const held = await thrown(() => makeIssuer(fake).createRoutedIP(OWNER, target(101), intent));
  t.equal(held.reason, 'DropletHoldsReservedIP');
  t.type(held, IssuerBusyError, 'retryable: another node is elected, never a dead end');
  t.same(fake.mutations(), [], 'nothing was written');
  t.same(fake.violations, []);
});

t.test('siblings created together: one IP each, the older intent keeps the contested one', async (t) => {
  const fake = await startFake(t, { actionReads: 0 });
  const a = intentFor(fake, 101, '2026-11-23T12:00:00Z');
  const b = intentFor(fake, 101, '2026-11-23T12:00:01Z');
  const ip = await makeIssuer(fake).createRoutedIP(OWNER, target(101), a);
  const other = { namespace: OWNER.namespace, name: 'other', uid: 'uid-other' };
  const raced = await thrown(() => makeIssuer(fake).createRoutedIP(other, target(101), b));
  t.equal(raced.reason, 'DropletHoldsReservedIP', 'the second create on the droplet is refused, retryably');
  const forA = await makeIssuer(fake).findRoutedIP(query({ intent: a, siblings: [{ uid: other.uid, intent: { target: '101', since: b.since } }] }));
  const forB = await makeIssuer(fake).findRoutedIP({ ...query({ intent: b, siblings: [{ uid: OWNER.uid, intent: { target: '101', since: a.since } }] }), owner: other });
  t.equal(forA?.address, ip.address, 'the older intent claims it');
  t.equal(forB, undefined, 'the younger one does not');
  // Both recorded it (each saw a stale view of the other): the smaller uid (uid-other) keeps it.
  const ownerKeeps = await makeIssuer(fake).findRoutedIP(query({ lastKnownAddress: ip.address, siblings: [{ uid: other.uid, address: ip.address }] }));
  const otherKeeps = await makeIssuer(fake).findRoutedIP({ ...query({ lastKnownAddress: ip.address, siblings: [{ uid: OWNER.uid, address: ip.address }] }), owner: other });
  t.equal(ownerKeeps, undefined, 'a recorded claim of a smaller uid wins over ours');
  t.equal(otherKeeps?.address, ip.address, 'and that one keeps it');
  t.equal(fake.model.reservedIPs.size, 1);
  t.same(fake.violations, []);
});

t.test('a recorded address is ours on a cluster droplet or unassigned; a released one is forgotten', async (t) => {
  const fake = await startFake(t, { actionReads: 0 });
  const other = fake.model.addReservedIP('nyc3', 102);
  const issuer = makeIssuer(fake);
  const ours = await issuer.createRoutedIP(OWNER, target(101), intentFor(fake, 101));
  t.equal(ours.holder, '101', 'completed at once');
  t.equal((await makeIssuer(fake).findRoutedIP(query({ lastKnownAddress: ours.address })))?.address, ours.address, 'recorded and on a cluster droplet');
  t.equal(await makeIssuer(fake).findRoutedIP(query({ lastKnownAddress: '198.51.100.250' })), undefined, 'a released address in status is not replaced by a guess');
  fake.model.reservedIPs.get(ours.address)!.dropletId = null;
  t.equal((await makeIssuer(fake).findRoutedIP(query({ lastKnownAddress: ours.address })))?.holder, undefined, 'recorded and unassigned (its droplet was destroyed): still ours');
  const adopted = await makeIssuer(fake).findRoutedIP(query({ address: other }));
  t.equal(adopted?.holder, '102', 'spec.address adopts exactly that IP');
  t.same(fake.violations, []);
});

t.test('assign moves the IP; the droplet changes once the action completed', async (t) => {
  const fake = await startFake(t, { actionReads: Infinity });
  const ipAddr = fake.model.addReservedIP('nyc3', 101);
  const issuer = makeIssuer(fake);
  const ip = (await issuer.findRoutedIP(query({ lastKnownAddress: ipAddr })))!;
  const r = await issuer.assignRoutedIP(ip, target(102));
  t.match(r, { done: false, action: { type: 'assign' } });
  const during = await issuer.findRoutedIP(query({ lastKnownAddress: ipAddr }));
  t.equal(during?.holder, '101', 'still on the old droplet while in progress');
  t.ok(during?.pendingAction);
  const busy = await thrown(() => issuer.releaseRoutedIP({ ...ip }));
  t.type(busy, IssuerBusyError, 'DELETE on a locked IP: 422 pending event');
  fake.model.completeActions();
  t.equal((await issuer.findRoutedIP(query({ lastKnownAddress: ipAddr })))?.holder, '102');
  t.same(fake.violations, []);
});

t.test('422 pending event on the droplet maps to IssuerBusyError', async (t) => {
  const fake = await startFake(t, { actionReads: Infinity });
  const a = fake.model.addReservedIP('nyc3', 101);
  const b = fake.model.addReservedIP('nyc3', null);
  const issuer = makeIssuer(fake);
  const ipA = (await issuer.findRoutedIP(query({ lastKnownAddress: a })))!;
  await issuer.unassignRoutedIP(ipA);
  const ipB = (await issuer.findRoutedIP(query({ address: b })))!;
  const err = await thrown(() => issuer.assignRoutedIP(ipB, target(101)));
  t.type(err, IssuerBusyError);
  t.match(err.message, /pending event/);
  t.same(fake.violations, []);
});

t.test('an action that 404s right after its creation is reported as pending', async (t) => {
  const fake = await startFake(t, { actionReads: 5, hiddenActionReads: 3 });
  const issuer = makeIssuer(fake);
  const ip = await issuer.createRoutedIP(OWNER, target(101), intentFor(fake, 101));
  const seen = await issuer.findRoutedIP(query({ lastKnownAddress: ip.address }));
  t.same(seen?.pendingAction, { id: 'unknown', type: 'locked' });
  fake.model.completeActions();
  t.equal((await issuer.findRoutedIP(query({ lastKnownAddress: ip.address })))?.pendingAction, undefined);
  t.same(fake.violations, []);
});

t.test('droplets outside the issuer region are refused', async (t) => {
  const fake = await startFake(t);
  const issuer = makeIssuer(fake);
  const err = await thrown(() => issuer.createRoutedIP(OWNER, { node: 'far', id: '201' }, { ...intentFor(fake, 201), node: 'far' }));
  t.type(err, IssuerInvalidError);
  t.equal(err.reason, 'NodeInWrongRegion');
  const missing = await thrown(() => issuer.createRoutedIP(OWNER, { node: 'gone', id: '999' }, intentFor(fake, 999)));
  t.equal(missing.reason, 'DropletNotFound');
  const unrecorded = await thrown(() => issuer.createRoutedIP(OWNER, target(101)));
  t.equal(unrecorded.reason, 'CreateIntentMissing', 'no create without a recorded intent');
  t.same(fake.calls, [], 'nothing was created');
  t.same(fake.violations, []);
});

t.test('unassign then release; both idempotent', async (t) => {
  const fake = await startFake(t, { actionReads: 1 });
  const addr = fake.model.addReservedIP('nyc3', 101);
  const issuer = makeIssuer(fake);
  const ip = (await issuer.findRoutedIP(query({ lastKnownAddress: addr })))!;
  const un = await issuer.unassignRoutedIP(ip);
  t.match(un, { done: false, action: { type: 'unassign' } });
  fake.model.completeActions();
  const free = (await issuer.findRoutedIP(query({ lastKnownAddress: addr })))!;
  t.equal(free.holder, undefined);
  t.same(await issuer.unassignRoutedIP(free), { done: true }, 'already unassigned');
  t.same(await issuer.unassignRoutedIP(ip), { done: true }, 'stale view: 422 then a fresh read agrees');
  t.same(await issuer.releaseRoutedIP(free), { done: true });
  t.same(await issuer.releaseRoutedIP(free), { done: true }, 'already released (404)');
  t.equal(fake.model.reservedIPs.size, 0);
  t.same(fake.violations, []);
});

t.test('error mapping: 401, quota, 5xx, timeout', async (t) => {
  const fake = await startFake(t, { actionReads: 0, reservedIPLimit: 1 });
  fake.model.addReservedIP('nyc3', null);
  const issuer = makeIssuer(fake, { requestTimeoutInMs: 300 });
  const quota = await thrown(() => issuer.createRoutedIP(OWNER, target(101), intentFor(fake, 101)));
  t.type(quota, IssuerQuotaError);
  const listing = query({ intent: intentFor(fake, 101) });
  fake.fault('reservedIPs_list', { status: 503 });
  const down = await thrown(() => makeIssuer(fake, { requestTimeoutInMs: 300 }).findRoutedIP(listing));
  t.type(down, IssuerUnavailableError);
  t.match(down.message, /HTTP 503/);
  fake.fault('reservedIPs_list', { delayMs: 1_000 });
  const slow = await thrown(() => makeIssuer(fake, { requestTimeoutInMs: 300 }).findRoutedIP(listing));
  t.equal(slow.reason, 'CloudUnreachable');
  fake.tokens.clear();
  const auth = await thrown(() => issuer.findRoutedIP(listing));
  t.type(auth, IssuerAuthError);
  t.equal(auth.reason, 'InvalidCredentials');
  t.notMatch(auth.message, /do-test-token/, 'the token is not in the message');
  t.same(Object.keys(auth).includes('cause') ? (auth as { cause?: unknown }).cause : undefined, undefined, 'no AxiosError (with its headers) attached');
  t.same(fake.violations, []);
});
