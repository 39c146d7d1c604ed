/**
 * `npm run demo`: the main job on the built-in simulated cloud (`--cloud digitalocean` / `--cloud hetzner`:
 * the local fake DigitalOcean / Hetzner Cloud API). No cluster, no credentials, no network beyond 127.0.0.1.
 * Exits 1 when a step did not converge or the cloud was not left clean (see run.ts).
 */
import { digitalOceanDemoCloud, hetznerDemoCloud, memoryDemoCloud } from './clouds.js';
import { runDemo } from './run.js';

const choice = process.argv.includes('--cloud') ? process.argv[process.argv.indexOf('--cloud') + 1] : 'memory';
const clouds = { memory: async () => memoryDemoCloud(), digitalocean: digitalOceanDemoCloud, hetzner: hetznerDemoCloud };
if (choice === undefined || !(choice in clouds)) {
  console.error(`usage: npm run demo [-- --cloud ${Object.keys(clouds).join('|')}]`);
  process.exit(2);
}
const cloud = await clouds[choice as keyof typeof clouds]();
try {
  process.exitCode = (await runDemo(cloud)) ? 0 : 1;
} finally {
  await cloud.close();
}
