/**
 * Every controller config in metacontroller/ validates against Metacontroller's own CRD schema
 * (read from ../shared/specs, never copied), is listed in the kustomization, and wires every hook
 * to a route the service really serves, with v2, a timeout and the bearer token.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { errorLines, readDoc, readDocs, repoRoot, schemaValidator, type Json } from './k8s-schema.js';

const specs = path.resolve(repoRoot, '..', 'shared', 'specs', 'metacontroller', 'crds.yaml');
const files = readdirSync(path.join(repoRoot, 'metacontroller')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
const controllers: Array<{ file: string; doc: Json }> = files.flatMap((file) => readDocs(`metacontroller/${file}`).map((doc) => ({ file, doc })));
const byName = (name: string) => controllers.find((c) => c.doc.metadata.name === name)?.doc;
const service = readDoc('manifests/deploy/service.yaml', 'Service');

// Outside CI a checkout without ../shared skips; in CI the specs must be there.
const skipSpecs = !existsSync(specs) && process.env.CI !== 'true' && `${specs} not present`;

t.test('every controller validates against its Metacontroller CRD schema', { skip: skipSpecs }, async (t) => {
  const crds = readDocs(specs).filter((d) => d.kind === 'CustomResourceDefinition');
  t.ok(controllers.length >= 2, 'controllers found');
  for (const { file, doc } of controllers) {
    const crd = crds.find((d) => d.spec?.names?.kind === doc.kind);
    t.ok(crd, `${file}: ${doc.kind} is a Metacontroller kind`);
    const version = (crd.spec.versions as Json[]).find((v) => v.name === 'v1alpha1');
    t.equal(doc.apiVersion, `${crd.spec.group}/${version.name}`, `${file}: apiVersion`);
    const validate = schemaValidator({ spec: { versions: [version] } });
    t.ok(validate(doc), `${file}: ${errorLines(validate).join('; ') || 'valid'}`);
    // The validator must be able to say no: a misspelt hook field is caught.
    const broken = structuredClone(doc);
    broken.spec.hooks.sync.webhook.timout = '10s';
    t.notOk(validate(broken), `${file}: a misspelt field is rejected`);
  }
});

t.test('the kustomization installs every controller file', async (t) => {
  const kustomization = readDocs('metacontroller/kustomization.yaml')[0];
  t.same([...kustomization.resources].sort(), files);
});

t.test('every hook reaches a route of the service with v2, a timeout and the token', async (t) => {
  const app = buildApp({ registry: createIssuerRegistry({}), defaultMetrics: false });
  t.teardown(() => app.close());
  await app.ready();
  for (const { file, doc } of controllers) {
    const hooks = doc.spec.hooks as Json;
    t.ok(hooks.sync, `${file}: a sync hook (Metacontroller requires one)`);
    for (const [name, hook] of Object.entries(hooks) as Array<[string, Json]>) {
      const webhook = hook.webhook;
      t.equal(hook.version, 'v2', `${file} ${name} is v2`);
      t.ok(app.hasRoute({ method: 'POST', url: webhook.path }), `${file} ${name}: POST ${webhook.path} is served`);
      t.same(webhook.service, { name: service.metadata.name, namespace: service.metadata.namespace, port: service.spec.ports[0].port });
      t.match(webhook.timeout, /^\d+s$/, `${file} ${name} has an explicit timeout`);
      t.same(webhook.authorization.secretRef, { name: 'routedip-hook-token', namespace: 'routedip-system', key: 'token' });
      t.equal(webhook.url, undefined, 'service+path, not a url that would override them');
    }
    t.notMatch(JSON.stringify(doc), /Rolling/, `${file}: no rolling updates (hooks have cloud side effects)`);
  }
});

t.test('RoutedIP CompositeController: parent, selector, no children', async (t) => {
  const controller = byName('routedip');
  t.equal(controller.kind, 'CompositeController');
  t.equal(controller.metadata.namespace, undefined, 'cluster-scoped');
  t.same(controller.spec.parentResource, { apiVersion: 'routedip.io/v1alpha1', resource: 'routedips' });
  t.equal(controller.spec.generateSelector, true);
  t.equal(controller.spec.childResources, undefined);
  t.notMatch(JSON.stringify(controller), /updateStrategy/);
  t.ok(controller.spec.resyncPeriodSeconds >= 60, 'a periodic resync catches cloud drift');
  t.same(Object.keys(controller.spec.hooks).sort(), ['customize', 'finalize', 'sync']);
  for (const name of ['sync', 'finalize', 'customize']) t.equal(controller.spec.hooks[name].webhook.path, `/${name}`);
});

t.test('Node DecoratorController: every Node, no attachments, no finalizer', async (t) => {
  const controller = byName('routedip-nodes');
  t.equal(controller.kind, 'DecoratorController');
  t.same(controller.spec.resources, [{ apiVersion: 'v1', resource: 'nodes' }]);
  t.equal(controller.spec.attachments, undefined);
  t.same(Object.keys(controller.spec.hooks).sort(), ['customize', 'sync'], 'no finalize hook: no finalizer on Nodes');
});

t.test('Service DecoratorController: annotated Services, RoutedIP attachments updated in place, finalize', async (t) => {
  const controller = byName('routedip-services');
  t.equal(controller.kind, 'DecoratorController');
  t.same(controller.spec.resources, [
    { apiVersion: 'v1', resource: 'services', annotationSelector: { matchExpressions: [{ key: 'routedip.io/issuer', operator: 'Exists' }] } },
  ]);
  t.same(controller.spec.attachments, [{ apiVersion: 'routedip.io/v1alpha1', resource: 'routedips', updateStrategy: { method: 'InPlace' } }]);
  t.same(Object.keys(controller.spec.hooks).sort(), ['customize', 'finalize', 'sync']);
});

t.test('issuer CompositeControllers: both kinds are parents with sync, finalize and customize, no children', async (t) => {
  for (const [name, resource, prefix] of [['routedip-issuers', 'routedipissuers', '/issuer/'], ['routedip-clusterissuers', 'clusterroutedipissuers', '/clusterissuer/']] as const) {
    const controller = byName(name);
    t.equal(controller.kind, 'CompositeController', name);
    t.same(controller.spec.parentResource, { apiVersion: 'routedip.io/v1alpha1', resource });
    t.equal(controller.spec.childResources, undefined, `${name}: no children`);
    t.same(Object.keys(controller.spec.hooks).sort(), ['customize', 'finalize', 'sync'], `${name}: finalize holds a deleted issuer`);
    for (const [hook, h] of Object.entries(controller.spec.hooks) as Array<[string, Json]>) t.equal(h.webhook.path, `${prefix}${hook}`);
  }
});

t.test('the service deadline sits below the hook timeout it is configured with', async (t) => {
  const { hookDeadlineMs } = await import('../../src/app.js');
  const { loadConfig } = await import('../../src/config.js');
  const deployment = readDoc('manifests/deploy/deployment.yaml', 'Deployment');
  const env = Object.fromEntries((deployment.spec.template.spec.containers[0].env as Json[]).map((e) => [e.name, e.value]));
  const configured = loadConfig({ HOOK_TIMEOUT_SECONDS: env.HOOK_TIMEOUT_SECONDS }).hookTimeoutSeconds;
  // Every controller calls the same service, so every hook's timeout is the one configured.
  for (const { file, doc } of controllers) {
    for (const [name, hook] of Object.entries(doc.spec.hooks as Record<string, Json>)) {
      const seconds = Number(/^(\d+)s$/.exec(hook.webhook.timeout)?.[1]);
      t.equal(configured, seconds, `${file} ${doc.metadata.name}: HOOK_TIMEOUT_SECONDS in the Deployment equals the ${name} hook timeout`);
      t.ok(hookDeadlineMs(seconds) <= seconds * 1000 - 2000, `${doc.metadata.name} ${name}: the deadline leaves 2 s for the answer`);
    }
  }
  t.equal(loadConfig({}).hookTimeoutSeconds, 10, "the default is Metacontroller's default");
  t.throws(() => loadConfig({ HOOK_TIMEOUT_SECONDS: '1' }), /HOOK_TIMEOUT_SECONDS/, 'too short to leave room is refused');
  t.equal(hookDeadlineMs(10), 8000);
  t.equal(hookDeadlineMs(2), 1000, 'never below 1 s');
});

t.test('a Ready RoutedIP is looked at again before the periodic resync would', async (t) => {
  const { READY_RESYNC_SECONDS } = await import('../../src/reconcile/sync.js');
  const period = byName('routedip').spec.resyncPeriodSeconds as number;
  t.ok(READY_RESYNC_SECONDS > 0 && READY_RESYNC_SECONDS < period, `READY_RESYNC_SECONDS ${READY_RESYNC_SECONDS} < resyncPeriodSeconds ${period}`);
});

t.test('the webhook Service pins each client to one replica', async (t) => {
  t.equal(service.spec.sessionAffinity, 'ClientIP');
});
