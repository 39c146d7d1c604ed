/**
 * Every hook path a controller config in metacontroller/ names is a hook of the service:
 * authenticated with the bearer token and counted in the hook metrics. The service once kept a
 * hand-written list of hook paths that missed /clusterissuer/*, which then took calls without
 * the token; the list of paths here comes from the configs Metacontroller is given.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../manifests/k8s-schema.js';
import { ScriptedWorld } from './world.js';

/** Every `path:` of a hook in the controller configs (sync, finalize, customize). */
function hookPaths(): string[] {
  const dir = path.join(repoRoot, 'metacontroller');
  const paths = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.webhook && typeof o.webhook === 'object' && typeof (o.webhook as { path?: unknown }).path === 'string') paths.add((o.webhook as { path: string }).path);
      Object.values(o).forEach(walk);
    }
  };
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))) walk(doc.toJS());
  }
  return [...paths].sort();
}

t.test('every hook of every controller config refuses a call without the bearer token and is counted', async (t) => {
  const paths = hookPaths();
  t.ok(paths.includes('/clusterissuer/finalize') && paths.includes('/sync'), `the configs name ${paths.length} hook paths`);
  const w = await new ScriptedWorld().start(t, 'hook-token');
  for (const p of paths) {
    const res = await w.app.inject({ method: 'POST', url: p, payload: {}, headers: { 'content-type': 'application/json' } });
    t.equal(res.statusCode, 401, `${p} without the token: 401`);
  }
  const metrics = (await w.app.inject({ method: 'GET', url: '/metrics' })).body;
  for (const p of paths) t.match(metrics, `routedip_hook_requests_total{hook="${p.slice(1)}",code="401"} 1`, `${p} is counted as a hook`);
  for (const open of ['/healthz', '/metrics']) t.equal((await w.app.inject({ method: 'GET', url: open })).statusCode, 200, `${open} needs no token`);
});
