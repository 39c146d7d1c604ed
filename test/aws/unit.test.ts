/** Pure parts of the AWS issuer: providerID parsing, region of a zone, error mapping, throttle budget. */
import t from 'tap';
import { IssuerAuthError, IssuerInvalidError, IssuerNotFoundError, IssuerQuotaError, IssuerRateLimitError, IssuerUnavailableError } from '../../src/issuers/errors.js';
import { mapAwsError } from '../../src/issuers/aws/errors.js';
import { awsNodeTarget, parseZone, regionOfZone } from '../../src/issuers/aws/provider-id.js';
import { createThrottleBudget } from '../../src/issuers/aws/throttle.js';
import { node, withProviderID } from '../fixtures/k8s.js';

t.test('providerID → NodeTarget', async (t) => {
  const cases: Array<[string, object | undefined]> = [
    ['aws:///us-east-1a/i-0123456789abcdef0', { node: 'n', id: 'i-0123456789abcdef0', zone: 'us-east-1a' }],
    ['aws:////i-0123456789abcdef0', { node: 'n', id: 'i-0123456789abcdef0' }],
    ['aws:///us-east-1-bos-1a/i-0abc', { node: 'n', id: 'i-0abc', zone: 'us-east-1-bos-1a' }],
    ['aws:///eu-west-1a/i-0abc', undefined],
    ['aws:///us-east-1a/fargate-10.0.0.1', undefined],
    ['digitalocean://123', undefined],
    ['i-0abc', undefined],
    ['', undefined],
  ];
  for (const [id, want] of cases) t.same(awsNodeTarget(node('n', withProviderID(id)), 'us-east-1'), want, id || '(empty)');
  t.equal(awsNodeTarget(node('n'), 'us-east-1'), undefined, 'no providerID');
});

t.test('region of a zone: Availability, Local and Wavelength Zones (issue 8 item 5)', async (t) => {
  // Names from the EC2 API reference (AvailabilityZone.groupName examples) and the Wavelength
  // developer guide's zone tables.
  const table: Array<[string, string | undefined, boolean | undefined]> = [
    ['us-east-1a', 'us-east-1', true],
    ['ap-southeast-2c', 'ap-southeast-2', true],
    ['us-gov-west-1a', 'us-gov-west-1', true],
    ['cn-north-1a', 'cn-north-1', true],
    ['us-iso-east-1a', 'us-iso-east-1', true],
    ['us-west-2-lax-1a', 'us-west-2', false],
    ['us-east-1-bos-1a', 'us-east-1', false],
    ['us-east-1-wl1-bos-wlz-1', 'us-east-1', false],
    ['us-east-1-wl1-atl-wlz-1', 'us-east-1', false],
    ['ap-northeast-1-wl1-kix-wlz-1', 'ap-northeast-1', false],
    ['eu-west-2-wl1-lon-wlz-1', 'eu-west-2', false],
    ['us-east-1', undefined, undefined],
    ['us-east-11', undefined, undefined],
    ['nyc3', undefined, undefined],
    ['use1-az1', undefined, undefined],
    ['', undefined, undefined],
  ];
  for (const [zone, region, az] of table) {
    t.equal(regionOfZone(zone), region, `${zone || '(empty)'} → ${region}`);
    t.equal(parseZone(zone)?.availabilityZone, az, `${zone || '(empty)'}: an Availability Zone? ${az}`);
  }
  t.same(awsNodeTarget(node('n', withProviderID('aws:///us-east-1-wl1-bos-wlz-1/i-0abc')), 'us-east-1'), { node: 'n', id: 'i-0abc', zone: 'us-east-1-wl1-bos-wlz-1' }, 'a Wavelength node parses');
  t.equal(awsNodeTarget(node('n', withProviderID('aws:///us-west-2-wl1-las-wlz-1/i-0abc')), 'us-east-1'), undefined, 'in another region');
});

const sdkError = (name: string, fault: 'client' | 'server' = 'client', status = 400) =>
  Object.assign(new Error(`${name} happened for request 0f3c5f9e-1111-4222-8333-444455556666`), { name, $fault: fault, $metadata: { httpStatusCode: status } });

t.test('EC2 error codes map onto the issuer error classes with deterministic messages', async (t) => {
  const table: Array<[string, new (...a: never[]) => Error, string]> = [
    ['AuthFailure', IssuerAuthError, 'InvalidCredentials'],
    ['UnauthorizedOperation', IssuerAuthError, 'Unauthorized'],
    ['RequestLimitExceeded', IssuerRateLimitError, 'RateLimited'],
    ['AddressLimitExceeded', IssuerQuotaError, 'QuotaExceeded'],
    ['RulesPerSecurityGroupLimitExceeded', IssuerQuotaError, 'QuotaExceeded'],
    ['InvalidInstanceID.NotFound', IssuerNotFoundError, 'InstanceNotFound'],
    ['InvalidAllocationID.NotFound', IssuerNotFoundError, 'AllocationNotFound'],
    ['InvalidGroup.NotFound', IssuerNotFoundError, 'GroupNotFound'],
    ['InvalidParameterValue', IssuerInvalidError, 'InvalidRequest'],
    ['InternalError', IssuerUnavailableError, 'CloudUnavailable'],
  ];
  for (const [code, cls, reason] of table) {
    const mapped = mapAwsError(sdkError(code, code === 'InternalError' ? 'server' : 'client', code === 'InternalError' ? 500 : 400), 'AssociateAddress');
    t.type(mapped, cls, code);
    t.equal(mapped.reason, reason, `${code} reason`);
    t.notMatch(mapped.message, /0f3c5f9e/, `${code}: no request id in the message`);
  }
  const timeout = mapAwsError(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), 'DescribeAddresses');
  t.type(timeout, IssuerUnavailableError);
  t.equal(mapAwsError(sdkError('RequestLimitExceeded'), 'X', 20).name, 'IssuerRateLimitError');
  t.equal((mapAwsError(sdkError('RequestLimitExceeded'), 'X', 20) as IssuerRateLimitError).retryAfterSeconds, 20);
});

t.test('throttle budget: doubles while throttled, capped, cleared by a success', async (t) => {
  let now = 0;
  const budget = createThrottleBudget(() => now, 5, 20);
  t.equal(budget.remainingSeconds('k'), 0);
  t.equal(budget.throttled('k'), 5);
  t.equal(budget.remainingSeconds('k'), 5);
  t.equal(budget.remainingSeconds('other'), 0, 'per account');
  now += 5000;
  t.equal(budget.remainingSeconds('k'), 0);
  t.equal(budget.throttled('k'), 10);
  t.equal(budget.throttled('k'), 20);
  t.equal(budget.throttled('k'), 20, 'capped');
  budget.succeeded('k');
  t.equal(budget.remainingSeconds('k'), 0);
  t.equal(budget.throttled('k'), 5, 'back to the base');
});

t.test("every EC2 call carries the hook call's AbortSignal, the one-attempt AllocateAddress client's too", async (t) => {
  const { ec2Api } = await import('../../src/issuers/aws/client.js');
  const sent: Array<{ client: string; command: string; signal: unknown }> = [];
  const recorder = (client: string) =>
    ({ send: async (command: object, options?: { abortSignal?: AbortSignal }) => void sent.push({ client, command: command.constructor.name, signal: options?.abortSignal }) }) as never;
  const signal = new AbortController().signal;
  const api = ec2Api({ retrying: recorder('retrying'), once: recorder('once') }, signal);
  for (const call of Object.values(api)) await (call as (input: object) => Promise<unknown>)({});
  t.equal(sent.length, Object.keys(api).length, 'every seam method sent one command');
  t.same(sent.filter((s) => s.client === 'once').map((s) => s.command), ['AllocateAddressCommand'], 'AllocateAddress alone goes through the one-attempt client');
  t.same(sent.filter((s) => s.signal !== signal).map((s) => s.command), [], 'no command is sent without the signal');
});
