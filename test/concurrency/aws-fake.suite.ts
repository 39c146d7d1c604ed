/**
 * The seeded concurrency suite on the wire-level EC2 fake (see aws.ts, harness.ts and
 * docs/concurrency.md). One fake for the run, emptied before each scenario.
 */
import t from 'tap';
import { FakeEc2 } from '../fakes/ec2/server.js';
import { awsCloud, awsRegistry } from './aws.js';
import { runSuite } from './harness.js';

// An account with room for every RoutedIP and the foreign Elastic IPs (AWS raises the default 5 on request).
const fake = new FakeEc2({ addressLimit: 20 });
const endpoint = await fake.start();
t.teardown(() => fake.close());

runSuite(t, {
  name: 'aws-fake',
  provider: 'aws',
  registry: awsRegistry('fake'),
  scenarios: 200,
  cloud: (dice, index) => awsCloud(dice, index, { endpoint, reset: async () => fake.reset(), fake }),
});
