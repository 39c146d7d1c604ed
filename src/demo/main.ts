/**
 * `npm run demo`: the main job on the built-in simulated cloud (`--cloud digitalocean`: the
 * local fake DigitalOcean API). No cluster, no credentials, no network beyond 127.0.0.1.
 * Exits 1 when a step did not converge or the cloud was not left clean (see run.ts).
 */
import { digitalOceanDemoCloud, memoryDemoCloud } from './clouds.js';
import { runDemo } from './run.js';

const choice = process.argv.includes('--cloud') ? process.argv[process.argv.indexOf('--cloud') + 1] : 'memory';
if (choice !== 'memory' && choice !== 'digitalocean') {
  console.error('usage: npm run demo [-- --cloud memory|digitalocean]');
  process.exit(2);
}
const cloud = choice === 'digitalocean' ? await digitalOceanDemoCloud() : memoryDemoCloud();
try {
  process.exitCode = (await runDemo(cloud)) ? 0 : 1;
} finally {
  await cloud.close();
}
