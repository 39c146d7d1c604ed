/**
 * The README's first screen (PRODUCT.md "Delivery"): the two commands a fresh clone needs — the
 * main job on the simulated cloud, and the tests — before anything else, and then the Service
 * annotation quick path before the explicit RoutedIP.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from './k8s-schema.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

t.test('the first code block is the two commands, and both are scripts that exist', async (t) => {
  const first = /```sh\n([\s\S]*?)```/.exec(readme);
  t.ok(first && readme.indexOf(first[0]) < readme.indexOf('\n## '), 'it comes before the first section');
  const commands = (first?.[1] ?? '').split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/#.*$/, '').trim());
  t.same(commands, ['npm ci && npm run demo', 'npm test']);
  t.ok(pkg.scripts.demo && pkg.scripts.test, 'npm run demo and npm test are defined');
  t.ok(readme.split('\n').indexOf('npm test                 # the test suite') < 20, 'on the first screen');
});

t.test('the Service-annotation quick path comes first, the explicit RoutedIP second', async (t) => {
  const sections = readme.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3));
  t.same(sections.slice(0, 2), ['Quick path: annotate the Service', 'Explicit RoutedIP']);
});
