/**
 * Credentials never reach status, logs or metrics, even from a cloud that echoes every header
 * it receives back into its error messages: the real DigitalOcean, Hetzner Cloud and EC2 clients talk to an
 * echoing fake cloud, and the hook answers, the log lines and /metrics are searched for the
 * token, the access key id, the secret key, the session token, their base64 forms, and bearer
 * and SigV4 material. Also the redaction step on its own.
 */
import t from 'tap';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { REDACTED, Redactor } from '../../src/redaction.js';
import { MAX_MESSAGE_LENGTH } from '../../src/issuers/errors.js';
import { secret } from '../fixtures/k8s.js';
import { startEchoCloud, type EchoAnswer } from '../fakes/echo.js';
import { buildTestApp } from '../helpers/app.js';
import { condition, ScriptedWorld } from './world.js';

const DO_TOKEN = 'my-personal-do-token-0123456789abcdef';
/** Hetzner Cloud tokens are 64 letters and digits with no recognisable prefix: only the value can find them. */
const HCLOUD_TOKEN = 'jEheVytlAoFl7F8MqUQ7jAo2hOXASztX0123456789abcdefghijKLMNOPQRSTuv';
const AWS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'FQoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Every form of every credential that must never appear. */
const NEEDLES = [DO_TOKEN, b64(DO_TOKEN), HCLOUD_TOKEN, b64(HCLOUD_TOKEN), AWS.accessKeyId, AWS.secretAccessKey, AWS.sessionToken, b64(AWS.accessKeyId), b64(AWS.secretAccessKey), b64(AWS.sessionToken)];
const MATERIAL = [/Bearer\s+(?!\[REDACTED\])\S/i, /Signature=(?!\[REDACTED\])[0-9a-f]/i, /Credential=(?!\[REDACTED\])\w/i];

async function world(t: { teardown(fn: () => unknown): void }) {
  const w = new ScriptedWorld();
  const built = await buildTestApp(t, {
    registry: createIssuerRegistry({ memoryCloud: w.cloud }),
    clock: w.clock.now,
  });
  Object.assign(w, { app: built.app, logs: built.logs });
  return w;
}

const leaks = (text: string) => [...NEEDLES.filter((n) => text.includes(n)), ...MATERIAL.filter((r) => r.test(text)).map(String)];

t.test('an echoing DigitalOcean API: the token reaches neither status, logs nor metrics', async (t) => {
  for (const answer of [{ status: 422 }, { status: 401 }, { status: 403 }, { status: 404 }, { status: 500 }] as EchoAnswer[]) {
    const cloud = await startEchoCloud(t, 'digitalocean', answer);
    const w = await world(t);
    w.issuerSpec = { routedIPReclaimPolicy: 'Delete', digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api' }, endpoint: cloud.endpoint } };
    const secrets = [secret('do-api', { token: DO_TOKEN })];
    const res = await w.app.inject({ method: 'POST', url: '/sync', payload: w.request({ secrets }) });
    t.equal(res.statusCode, 200, `HTTP ${answer.status}`);
    t.ok(cloud.seen.length > 0, 'the issuer called the echoing cloud');
    t.equal(condition(res.json().status, 'Ready')?.status, 'False');
    const fin = await w.app.inject({ method: 'POST', url: '/finalize', payload: { ...w.request({ secrets }), finalizing: true } });
    const metrics = await w.app.inject({ method: 'GET', url: '/metrics' });
    t.same(leaks(res.payload + fin.payload), [], `HTTP ${answer.status}: nothing in the answers`);
    t.same(leaks(w.logs.join('\n')), [], `HTTP ${answer.status}: nothing in the logs`);
    t.same(leaks(metrics.payload), [], 'nothing in /metrics');
    if (answer.status === 422) t.match(res.payload, REDACTED, 'the echo did reach the status, redacted');
    for (const c of res.json().status.conditions as Array<{ message: string }>) t.ok(c.message.length <= MAX_MESSAGE_LENGTH + 200, 'bounded message');
  }
});

t.test('an echoing Hetzner Cloud API: the token reaches neither status, logs nor metrics', async (t) => {
  const answers: EchoAnswer[] = [
    { status: 422, code: 'invalid_input' },
    { status: 401, code: 'unauthorized' },
    { status: 403, code: 'forbidden' },
    { status: 404, code: 'not_found' },
    { status: 409, code: 'uniqueness_error' },
    { status: 500, code: 'server_error' },
    { status: 400, code: 'bad{echo}' },
  ];
  for (const answer of answers) {
    const cloud = await startEchoCloud(t, 'hetzner', answer);
    const w = await world(t);
    w.issuerSpec = { routedIPReclaimPolicy: 'Delete', hetzner: { location: 'fsn1', tokenSecretRef: { name: 'hcloud-api' }, endpoint: cloud.endpoint } };
    const secrets = [secret('hcloud-api', { token: HCLOUD_TOKEN })];
    const res = await w.app.inject({ method: 'POST', url: '/sync', payload: w.request({ secrets }) });
    t.equal(res.statusCode, 200, `${answer.status} ${answer.code}`);
    t.ok(cloud.seen.length > 0, 'the issuer called the echoing cloud');
    t.equal(condition(res.json().status, 'Ready')?.status, 'False');
    const fin = await w.app.inject({ method: 'POST', url: '/finalize', payload: { ...w.request({ secrets }), finalizing: true } });
    const metrics = await w.app.inject({ method: 'GET', url: '/metrics' });
    t.same(leaks(res.payload + fin.payload), [], `${answer.code}: nothing in the answers`);
    t.same(leaks(w.logs.join('\n')), [], `${answer.code}: nothing in the logs`);
    t.same(leaks(metrics.payload), [], 'nothing in /metrics');
    if (answer.status === 422) t.match(res.payload, REDACTED, 'the echo did reach the status, redacted');
    for (const c of res.json().status.conditions as Array<{ message: string; reason: string }>) {
      t.ok(c.message.length <= MAX_MESSAGE_LENGTH + 200, 'bounded message');
      t.match(c.reason, /^[A-Za-z][A-Za-z0-9]*$/, 'reasons stay CamelCase words');
    }
  }
});

t.test('an echoing EC2: access key id, secret key, session token and SigV4 material never shown', async (t) => {
  const answers: EchoAnswer[] = [
    { status: 400, code: 'InvalidParameterValue' },
    { status: 400, code: 'Invalid{echo}.NotFound' },
    { status: 403, code: 'UnauthorizedOperation' },
    { status: 401, code: 'AuthFailure' },
    { status: 400, code: AWS.accessKeyId },
  ];
  for (const answer of answers) {
    const cloud = await startEchoCloud(t, 'aws', answer);
    const w = await world(t);
    w.issuerSpec = { routedIPReclaimPolicy: 'Delete', aws: { region: 'us-east-1', credentialsSecretRef: { name: 'aws-creds' }, endpoint: cloud.endpoint } };
    const secrets = [secret('aws-creds', AWS)];
    const res = await w.app.inject({ method: 'POST', url: '/sync', payload: w.request({ secrets }) });
    t.equal(res.statusCode, 200, `${answer.code}`);
    t.ok(cloud.seen.length > 0, 'the issuer called the echoing cloud');
    const metrics = await w.app.inject({ method: 'GET', url: '/metrics' });
    t.same(leaks(res.payload), [], `${answer.code}: nothing in the answer`);
    t.same(leaks(w.logs.join('\n')), [], `${answer.code}: nothing in the logs`);
    t.same(leaks(metrics.payload), [], 'nothing in /metrics');
    for (const c of res.json().status.conditions as Array<{ reason: string }>) t.match(c.reason, /^[A-Za-z][A-Za-z0-9]*$/, 'reasons stay CamelCase words');
  }
});

t.test('the redaction step: values in every form, bearer, SigV4 and key-shaped strings', async (t) => {
  const r = new Redactor(['hook-token-value-123']).with([DO_TOKEN, AWS.secretAccessKey, 'short']);
  const text = [
    `token ${DO_TOKEN} b64 ${b64(DO_TOKEN)} url ${Buffer.from(DO_TOKEN).toString('base64url')}`,
    'Authorization: Bearer abc.def-ghi',
    'AWS4-HMAC-SHA256 Credential=AKIAXXXXXXXXXXXXXXXX/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef',
    'X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&X-Amz-Signature=deadbeefdeadbeef',
    `key ASIAEXAMPLEEXAMPLE12 and dop_v1_${'a'.repeat(64)} and ${AWS.secretAccessKey} and hook-token-value-123`,
    'a short value is left alone: short',
  ].join('\n');
  const out = r.text(text);
  t.same(leaks(out), []);
  for (const gone of ['abc.def-ghi', 'AKIAXXXXXXXXXXXXXXXX', '0123456789abcdef0123', 'IQoJb3JpZ2luX2VjEXAMPLE', 'deadbeefdeadbeef', 'ASIAEXAMPLEEXAMPLE12', 'dop_v1_', 'hook-token-value-123']) {
    t.notOk(out.includes(gone), `${gone} removed`);
  }
  t.match(out, 'short value is left alone: short');
  const deep = r.deep({ a: [DO_TOKEN, { b: new Error(`failed with ${DO_TOKEN}`) }], n: 3 });
  t.same(leaks(JSON.stringify(deep)), []);
  t.equal((deep as { n: number }).n, 3);
});

t.test('every shape is removed on its own, in any case, in a string that carries nothing else', async (t) => {
  const r = new Redactor();
  // Each sample carries one literal of one pattern and nothing else a pattern starts with.
  const samples: Array<[string, string]> = [
    ['authorization: bearer abc.def-ghi', 'abc.def-ghi'],
    ['BASIC dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
    ['aws4-hmac-sha256 sent-as-a-whole', 'sent-as-a-whole'],
    ['sent Credential=SECRETPART/20260101 to EC2', 'SECRETPART'],
    ['signedheaders=hostlist', 'hostlist'],
    ['Signature=0123456789abcdef0123456789abcdef', '0123456789abcdef'],
    ['x-amz-security-token: IQoJb3JpZ2luX2VjEXAMPLE', 'IQoJb3JpZ2luX2VjEXAMPLE'],
    ...['AKIA', 'ASIA', 'AIDA', 'AROA', 'AGPA', 'ANPA', 'ANVA', 'AIPA', 'APKA', 'ABIA', 'ACCA'].map((p): [string, string] => [`key ${p}EXAMPLEEXAMPLE12 in use`, `${p}EXAMPLEEXAMPLE12`]),
    ...['doo', 'dop', 'dor'].map((p): [string, string] => [`token ${p}_v1_${'b'.repeat(40)}`, `${p}_v1_`]),
  ];
  for (const [text, secret] of samples) t.notOk(r.text(text).includes(secret), `${text}: ${secret} removed`);
  t.equal(r.text('Ready: the address is assigned to node-a'), 'Ready: the address is assigned to node-a', 'ordinary text is kept');
});

t.test('hostile Secret values: huge, many, regex-special or with lone surrogates never break redaction', async (t) => {
  // Found by the abuse suite: the values used to be compiled into one RegExp, which threw for a
  // 70,000-character value before the call's redaction was in place, so the logged error carried
  // every value of the call.
  const huge = 'x'.repeat(70_000) + 'TAIL-OF-HUGE';
  const special = '(a+)+$[^\\]{2,}?|.*';
  const surrogate = 'lone\uD800surrogate-value';
  const many = Array.from({ length: 5_000 }, (_, i) => `many-secret-value-${i.toString().padStart(5, '0')}`);
  let r: Redactor | undefined;
  t.doesNotThrow(() => {
    r = new Redactor([huge, special, surrogate, ...many]);
  });
  const out = r!.text(`a ${huge} b ${special} c ${surrogate} d ${many[4_321]} e ${b64(huge)}`);
  for (const gone of ['TAIL-OF-HUGE', special, surrogate, many[4_321]!]) t.notOk(out.includes(gone), `${gone.slice(0, 30)} removed`);
  t.equal(out, `a ${REDACTED} b ${REDACTED} c ${REDACTED} d ${REDACTED} e ${REDACTED}`);
});
