/**
 * Node shapes only the fake models (moto launches instances in its own zone list, and ignores
 * AssociateAddress's PrivateIpAddress: every address it associates lands on the interface's
 * primary private IP):
 * - nodes outside the region's network border group (issue 8 item 5): a Wavelength Zone node
 *   parses and is judged, but an Elastic IP of the region cannot be associated with it, so the
 *   issuer refuses it before AssociateAddress and the sync re-elects;
 * - `privateIPs: DedicatedSecondaries` (issue 8 item 4): addresses on secondary private IPs.
 */
import { AllocateAddressCommand } from '@aws-sdk/client-ec2';
import t from 'tap';
import { createAwsIssuerFactory } from '../../src/issuers/aws/index.js';
import { unboundedSession } from '../../src/issuers/session.js';
import { recordingLogger } from '../digitalocean/helpers.js';
import { NAMESPACE, secret } from '../fixtures/k8s.js';
import { fakePeer, type Ec2Peer } from './peers.js';
import { AwsWorld, condition } from './world.js';

let peer: Ec2Peer;
t.before(async () => {
  peer = await fakePeer(t);
});
const fake = () => peer.fake as NonNullable<Ec2Peer['fake']>;

t.test('a Wavelength Zone node is refused with a clear reason, and the address goes to a node of an Availability Zone', async (t) => {
  const w = await new AwsWorld(peer).start(t, []);
  await w.addNode('edge', 'us-east-1-wl1-bos-wlz-1');
  await w.addNode('n2');
  w.endpointsOn = ['edge'];
  await w.sync();
  t.match(condition(w.status, 'Ready'), { status: 'False', reason: 'OutsideNetworkBorderGroup', message: /us-east-1-wl1-bos-wlz-1/ });
  t.notOk(w.writes.includes('associateAddress'), 'never associated there');
  w.endpointsOn = ['edge', 'n2'];
  await w.sync();
  t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(w.status.conditions));
  t.equal(w.status.node, 'n2', 're-elected within the sync');
  t.match(await w.addresses(), [{ node: 'n2' }]);
});

t.test('privateIPs: DedicatedSecondaries puts a second address on a free secondary private IP (issue 8 item 4)', async (t) => {
  const w = await new AwsWorld(peer).start(t, ['n1']);
  w.issuerSpec = { ...w.issuerSpec, aws: { ...w.issuerSpec.aws!, privateIPs: 'DedicatedSecondaries' } };
  await w.addSecondaryIps('n1', 1);
  await w.foreignAddressOn('n1');
  const [foreign] = await w.onPrimary('n1');
  await w.sync();
  t.equal(condition(w.status, 'Ready')?.status, 'True', JSON.stringify(w.status.conditions));
  const ips = (await w.primaryEni('n1')).privateIps;
  t.same(await w.onPrimary('n1'), [foreign, `${w.status.address}@${ips[1]}`].sort(), 'ours on the secondary, the other address kept');
  const b = w.sibling('second');
  b.related = [w.parent];
  await b.sync();
  t.match(b.status.steps.find((s) => s.name === 'ElectRoutedIPNode'), { outcome: 'failed', detail: /EveryNodeHoldsAnAddress/ }, 'no private IP left: occupied');
});

t.test('AssignRoutedIP itself refuses a node whose primary private IP another address took after the election (issue 8 item 4)', async (t) => {
  // The election avoids such nodes; this is the guard for one taken between the read and the write.
  const w = await new AwsWorld(peer).start(t, ['n1']);
  await w.addSecondaryIps('n1', 2);
  await w.foreignAddressOn('n1');
  const ours = await peer.admin.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  const issuer = createAwsIssuerFactory()({
    namespace: NAMESPACE,
    name: 'cloud',
    spec: w.issuerSpec,
    secrets: new Map([['aws-creds', secret('aws-creds', w.secretData)]]),
    logger: recordingLogger(),
    session: unboundedSession(),
  });
  fake().clearCalls();
  const refused = await issuer.assignRoutedIP({ address: ours.PublicIp ?? '', id: ours.AllocationId ?? '' }, { node: 'n1', id: w.instance('n1'), zone: 'us-east-1a' }).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.match(refused, { reason: 'PrimaryPrivateIPTaken', node: 'n1', message: /primary private IP .* already holds/ });
  t.same(fake().writes(), [], 'no AssociateAddress: no pod IP taken');
});
