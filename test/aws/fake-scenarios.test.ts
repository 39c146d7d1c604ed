/** The shared AWS scenario suite against the wire-level fake EC2. */
import t from 'tap';
import { fakePeer, type Ec2Peer } from './peers.js';
import { sharedScenarios } from './scenarios.js';

let peer: Ec2Peer | undefined;
t.before(async () => {
  peer = await fakePeer(t);
});
sharedScenarios(t, () => peer as Ec2Peer);
