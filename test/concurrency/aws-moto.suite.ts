/**
 * The seeded concurrency suite on moto's EC2 server (see aws.ts, harness.ts and
 * docs/concurrency.md): the second, independent EC2 peer. Skipped with its reason where moto is
 * not installed; in CI (`CI=true`) a missing moto fails instead.
 */
import t from 'tap';
import { motoAvailable, motoRequired, startMoto } from '../aws/moto.js';
import { awsCloud, awsRegistry } from './aws.js';
import { runSuite } from './harness.js';

const available = motoAvailable();
if (!available.ok && motoRequired()) throw new Error(`CI=true but ${available.reason}`);
const moto = available.ok ? await startMoto() : undefined;
if (moto) t.teardown(() => moto.stop());

runSuite(
  t,
  {
    name: 'aws-moto',
    provider: 'aws',
    registry: awsRegistry('moto'),
    scenarios: 40,
    cloud: (dice, index) => awsCloud(dice, index, moto!),
  },
  available.ok ? undefined : available.reason,
);
