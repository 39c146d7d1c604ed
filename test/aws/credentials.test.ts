/**
 * Ambient credentials that cannot be loaded (issue 8 item 5): the SDK's default chain throws
 * CredentialsProviderError before any request. That is its own condition, CredentialsUnavailable
 * (not CloudUnavailable), retried with backoff, and it recovers by itself once the source answers.
 *
 * The source here is what EKS Pod Identity gives a pod: AWS_CONTAINER_CREDENTIALS_FULL_URI and a
 * token file, pointing at a loopback stand-in for the agent (169.254.170.23 in a cluster). The
 * real SDK client and chain run, with the production configuration; only the environment is set.
 * Each tap file is its own process, so the environment changes stay in this file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { LOOPBACK_HOSTS } from '../../src/reconcile/policy.js';
import { NAMESPACE } from '../fixtures/k8s.js';
import { ACCESS_KEY_ID, fakePeer, REGION, SECRET_ACCESS_KEY, type Ec2Peer } from './peers.js';
import { AwsWorld, condition } from './world.js';

const AGENT_TOKEN = 'eks-pod-identity-token-must-never-be-shown';

let peer: Ec2Peer;
/** The stand-in agent: fails until `agentUp`, then hands out the fake's credentials. */
let agentUp = false;
const agentCalls: Array<string | undefined> = [];

t.before(async () => {
  peer = await fakePeer(t);
  const agent = createServer((req, res) => {
    agentCalls.push(req.headers.authorization);
    if (!agentUp) return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"agent unavailable"}');
    const expiration = new Date(Date.now() + 3_600_000).toISOString();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ AccessKeyId: ACCESS_KEY_ID, SecretAccessKey: SECRET_ACCESS_KEY, Token: 'session', AccountId: '123456789012', Expiration: expiration }));
  });
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => agent.close(() => resolve())));
  const dir = mkdtempSync(path.join(tmpdir(), 'routedip-creds-'));
  writeFileSync(path.join(dir, 'token'), AGENT_TOKEN);
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']) delete process.env[k];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: path.join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-credentials'),
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(agent.address() as AddressInfo).port}/v1/credentials`,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path.join(dir, 'token'),
  });
});

t.test('no credentials from the chain: CredentialsUnavailable, retried with backoff, no secret shown; then it recovers', async (t) => {
  const policy = loadConfig({ ISSUER_ENDPOINT_HOSTS: LOOPBACK_HOSTS.join(','), ISSUER_AMBIENT_CREDENTIALS_NAMESPACES: NAMESPACE }).issuerPolicy;
  const w = await new AwsWorld(peer).start(t, ['n1', 'n2'], {}, { issuerPolicy: policy });
  w.issuerSpec = { ...w.issuerSpec, aws: { region: REGION, endpoint: peer.endpoint } };
  const failed = await w.sync();
  t.equal(failed.statusCode, 200, 'a credentials failure is not an HTTP error');
  t.ok(agentCalls.length > 0, 'the chain asked the agent');
  t.equal(agentCalls[0], AGENT_TOKEN, 'with the projected token');
  t.match(condition(w.status, 'IssuerReady'), { status: 'False', reason: 'CredentialsUnavailable', message: /no AWS credentials could be loaded/ });
  t.match(condition(w.status, 'Ready'), { status: 'False', reason: 'CredentialsUnavailable' });
  t.ok((failed.body.resyncAfterSeconds ?? 0) > 0 && (failed.body.resyncAfterSeconds ?? 0) < 300, `retried with backoff, not the 300 s wait for a user: ${failed.body.resyncAfterSeconds}`);
  t.same(peer.fake?.calls ?? [], [], 'no request reached EC2');
  t.notOk(failed.raw.includes(AGENT_TOKEN), 'the token is not in the status');
  t.notOk(w.logs.join('').includes(AGENT_TOKEN), 'nor in the logs');

  agentUp = true;
  const recovered = await w.sync();
  t.equal(recovered.statusCode, 200);
  t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(w.status.conditions));
  t.equal(condition(w.status, 'IssuerReady')?.status, 'True');
});
