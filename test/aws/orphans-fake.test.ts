/** The orphan sweep scenarios against the wire-level fake EC2 (room for the account's many addresses). */
import t from 'tap';
import { ACCESS_KEY_ID, fakePeer, type Ec2Peer } from './peers.js';
import { orphanScenarios } from './orphan-scenarios.js';

let peer: Ec2Peer | undefined;
t.before(async () => {
  peer = await fakePeer(t, { acceptedAccessKeyIds: [ACCESS_KEY_ID], addressLimit: 10 });
});
orphanScenarios(t, () => peer as Ec2Peer);
