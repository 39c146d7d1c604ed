/**
 * Nodes outside the region's network border group (issue 8 item 5): a Wavelength Zone node
 * parses and is judged, but an Elastic IP of the region cannot be associated with it, so the
 * issuer refuses it before AssociateAddress and the sync re-elects. Only the fake: moto launches
 * instances in its own zone list.
 */
import t from 'tap';
import { fakePeer, type Ec2Peer } from './peers.js';
import { AwsWorld, condition } from './world.js';

let peer: Ec2Peer;
t.before(async () => {
  peer = await fakePeer(t);
});

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
