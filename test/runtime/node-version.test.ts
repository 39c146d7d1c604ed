/**
 * One Node.js version everywhere: the image, `engines`, the pinned .nvmrc (which CI, nvm, fnm and
 * the tools/node.sh fallback use), volta's pin and the README must name the same major, and the
 * running Node must be one `engines` accepts. The printed runtime line is what demo, e2e and bench
 * put first.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { LOWEST_SUPPORTED_NODE_MAJOR, runtimeInfo, runtimeLine } from '../../src/runtime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; volta: { node: string } };
const pinned = read('.nvmrc').trim();
const pinnedMajor = Number(pinned.split('.')[0]);

t.test('.nvmrc pins an exact LTS version (even major)', async (t) => {
  t.match(pinned, /^\d+\.\d+\.\d+$/);
  t.equal(pinnedMajor % 2, 0, 'even majors are the LTS lines');
  t.ok(pinnedMajor >= 24, 'Node 20 is end of life; the image runs 24 LTS or later');
});

t.test('the Dockerfile builds and runs on the pinned major', async (t) => {
  const images = [...read('Dockerfile').matchAll(/^ARG NODE_\w*IMAGE=(\S+)$/gm)].map((m) => m[1] ?? '');
  t.equal(images.length, 2, 'a build and a runtime image');
  for (const image of images) t.match(image, new RegExp(`^node:${pinnedMajor}-`), `${image} is Node ${pinnedMajor}`);
});

t.test('engines starts at the lowest supported major, volta pins the same version as .nvmrc', async (t) => {
  const lowest = /^>=(\d+)(\.\d+){0,2}$/.exec(pkg.engines.node);
  t.ok(lowest, `engines.node is a lower bound: ${pkg.engines.node}`);
  t.equal(Number(lowest?.[1]), LOWEST_SUPPORTED_NODE_MAJOR, 'runtime.ts agrees with engines');
  t.ok(LOWEST_SUPPORTED_NODE_MAJOR <= pinnedMajor);
  t.equal(pkg.volta.node, pinned);
});

t.test('the README tells developers the pinned version', async (t) => {
  const readme = read('README.md');
  t.ok(readme.includes(pinned), `README names ${pinned}`);
  t.ok(readme.includes('tools/node.sh'), 'README gives the npm-package fallback');
});

t.test('the tests run on a Node.js that engines accepts', async (t) => {
  const [min = '0', minor = '0', patch = '0'] = pkg.engines.node.replace('>=', '').split('.');
  const [major, runMinor, runPatch] = process.versions.node.split('.').map(Number) as [number, number, number];
  const ok = major !== Number(min) ? major > Number(min) : runMinor !== Number(minor) ? runMinor > Number(minor) : runPatch >= Number(patch);
  t.ok(ok, `running ${process.version}, engines ${pkg.engines.node}`);
  t.equal(runtimeInfo().supported, true);
});

t.test('the runtime line names the version and warns on an unsupported major', async (t) => {
  t.equal(runtimeLine({ node: 'v24.21.0', major: 24, platform: 'linux-x64', supported: true }), 'node v24.21.0 (linux-x64)');
  t.match(runtimeLine({ node: 'v20.20.2', major: 20, platform: 'linux-x64', supported: false }), /^node v20\.20\.2 \(linux-x64\) — UNSUPPORTED/);
  t.equal(runtimeLine(), `node ${process.version} (${process.platform}-${process.arch})`);
});

t.test('CI runs on the pinned Node.js and on the lowest supported major', async (t) => {
  const ci = read('.ci/run');
  t.match(ci, /node_bin=\$\(tools\/node\.sh\)/, 'installs the .nvmrc version');
  t.match(ci, /export PATH="\$node_bin:\$PATH"/, 'and puts it first on PATH for npm ci, typecheck, build and test');
  const lowest = /^NODE_LOWEST=(\d+)\./m.exec(ci);
  t.equal(Number(lowest?.[1]), LOWEST_SUPPORTED_NODE_MAJOR, 'the second run uses the lowest major engines allows');
});
