/**
 * The ClusterRole for Metacontroller covers what every controller config makes it watch and
 * write, including the related objects the customize hooks really ask for (taken from the
 * service's answers, not from a list kept by hand).
 */
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import type { RelatedResourceRule } from '../../src/schemas/metacontroller.js';
import { issuer, node, routedIP, secret, service } from '../fixtures/k8s.js';
import { readDoc, readDocs, type Json } from './k8s-schema.js';

const role = readDoc('manifests/rbac/metacontroller.yaml', 'ClusterRole');
const binding = readDoc('manifests/rbac/metacontroller.yaml', 'ClusterRoleBinding');
const controllers: Json[] = readDocs('metacontroller/kustomization.yaml')[0].resources.flatMap((f: string) => readDocs(`metacontroller/${f}`));

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '');
const allows = (group: string, resource: string, verb: string) =>
  (role.rules as Json[]).some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

/** A representative parent for each customize hook, so its rules can be asked for. */
const SAMPLE_PARENTS: Record<string, unknown> = {
  '/customize': routedIP('public', { serviceRef: { name: 'ingress-nginx' } }),
  '/node/customize': node('n1'),
  '/service/customize': service('ingress-nginx', [443]),
  '/issuer/customize': issuer('cloud', { memory: {} }),
  '/clusterissuer/customize': { ...issuer('cloud', { memory: {} }), kind: 'ClusterRoutedIPIssuer', metadata: { name: 'cloud', generation: 1 } },
  '/secret/customize': secret('do-api', { token: 'x' }),
};

t.test('bound to Metacontroller', async (t) => {
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: 'metacontroller', namespace: 'metacontroller' }]);
});

t.test('every watched and written resource is allowed', async (t) => {
  const app = buildApp({ registry: createIssuerRegistry({}), defaultMetrics: false });
  t.teardown(() => app.close());
  await app.ready();
  const need = (apiVersion: string, resource: string, verbs: string[], why: string) => {
    for (const verb of verbs) t.ok(allows(groupOf(apiVersion), resource, verb), `${verb} ${resource} (${why})`);
  };
  for (const c of controllers) {
    const targets: Json[] = c.kind === 'CompositeController' ? [c.spec.parentResource] : c.spec.resources;
    for (const r of targets) {
      need(r.apiVersion, r.resource, ['get', 'list', 'watch', 'update', 'patch'], `${c.metadata.name} target`);
      if (c.kind === 'CompositeController') need(r.apiVersion, `${r.resource}/status`, ['update'], `${c.metadata.name} status`);
    }
    for (const a of [...(c.spec.attachments ?? []), ...(c.spec.childResources ?? [])]) {
      need(a.apiVersion, a.resource, ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], `${c.metadata.name} attachment`);
    }
    const customize = c.spec.hooks.customize?.webhook.path;
    if (!customize) continue;
    t.ok(SAMPLE_PARENTS[customize], `a sample parent for ${customize}`);
    const res = await app.inject({ method: 'POST', url: customize, payload: { parent: SAMPLE_PARENTS[customize] } });
    t.equal(res.statusCode, 200, `${customize} answers`);
    for (const rule of (res.json() as { relatedResources: RelatedResourceRule[] }).relatedResources) {
      need(rule.apiVersion, rule.resource, ['get', 'list', 'watch'], `${c.metadata.name} related`);
    }
  }
  need('v1', 'events', ['create', 'patch'], 'sync errors are reported as Events');
});
