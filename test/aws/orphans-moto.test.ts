/**
 * The orphan sweep scenarios against moto's EC2 server. Skipped only off CI when moto is not
 * installed; with CI=true a missing moto fails this file.
 */
import t from 'tap';
import { motoPeer, type Ec2Peer } from './peers.js';
import { motoAvailable, motoRequired } from './moto.js';
import { orphanScenarios } from './orphan-scenarios.js';

const available = motoAvailable();
if (!available.ok && !motoRequired()) {
  t.test('moto orphan scenarios', { skip: available.reason }, async () => {});
} else {
  let peer: Ec2Peer | undefined;
  t.before(async () => {
    const started = await motoPeer(t);
    if ('skip' in started) throw new Error(started.skip);
    peer = started;
  });
  orphanScenarios(t, () => peer as Ec2Peer);
}
