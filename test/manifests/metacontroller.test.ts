/**
 * The CompositeController validates against Metacontroller's own CRD schema (read from
 * ../shared/specs, never copied) and wires every hook to the webhook Service with v2, a timeout
 * and the bearer token, without children or rolling updates.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { errorLines, readDoc, readDocs, repoRoot, schemaValidator, type Json } from './k8s-schema.js';

const specs = path.resolve(repoRoot, '..', 'shared', 'specs', 'metacontroller', 'crds.yaml');
const controller = readDoc('metacontroller/compositecontroller.yaml', 'CompositeController');
const service = readDoc('manifests/deploy/service.yaml', 'Service');

// Outside CI a checkout without ../shared skips; in CI the specs must be there.
const skipSpecs = !existsSync(specs) && process.env.CI !== 'true' && `${specs} not present`;

t.test('validates against the CompositeController CRD schema', { skip: skipSpecs }, async (t) => {
  const crd = readDocs(specs).find((d) => d.kind === 'CustomResourceDefinition' && d.spec?.names?.kind === 'CompositeController');
  t.ok(crd, 'the CompositeController CRD is in the shared specs');
  const version = (crd.spec.versions as Json[]).find((v) => v.name === 'v1alpha1');
  t.equal(controller.apiVersion, `${crd.spec.group}/${version.name}`);
  const validate = schemaValidator({ spec: { versions: [version] } });
  t.ok(validate(controller), errorLines(validate).join('; ') || 'valid');
  // The validator must be able to say no: a misspelt hook field is caught.
  const broken = structuredClone(controller);
  broken.spec.hooks.sync.webhook.timout = '10s';
  t.notOk(validate(broken), 'a misspelt field is rejected');
});

t.test('parent, selector, no children, no rolling updates', async (t) => {
  t.equal(controller.metadata.name, 'routedip');
  t.equal(controller.metadata.namespace, undefined, 'cluster-scoped');
  t.same(controller.spec.parentResource, { apiVersion: 'routedip.io/v1alpha1', resource: 'routedips' });
  t.equal(controller.spec.generateSelector, true);
  t.equal(controller.spec.childResources, undefined);
  t.notMatch(JSON.stringify(controller), /Rolling|updateStrategy/);
  t.ok(controller.spec.resyncPeriodSeconds >= 60, 'a periodic resync catches cloud drift');
});

t.test('sync, finalize and customize reach the webhook Service with v2, a timeout and the token', async (t) => {
  const hooks = controller.spec.hooks as Json;
  t.same(Object.keys(hooks).sort(), ['customize', 'finalize', 'sync']);
  for (const name of ['sync', 'finalize', 'customize']) {
    const hook = hooks[name];
    t.equal(hook.version, 'v2', `${name} is v2`);
    const webhook = hook.webhook;
    t.equal(webhook.path, `/${name}`);
    t.same(webhook.service, { name: service.metadata.name, namespace: service.metadata.namespace, port: service.spec.ports[0].port });
    t.match(webhook.timeout, /^\d+s$/, `${name} has an explicit timeout`);
    t.same(webhook.authorization.secretRef, { name: 'routedip-hook-token', namespace: 'routedip-system', key: 'token' });
    t.equal(webhook.url, undefined, 'service+path, not a url that would override them');
  }
});
