/**
 * The Service DecoratorController through POST /service/sync and /service/finalize, played
 * against the RoutedIP controller on the memory cloud the way Metacontroller would run both:
 * annotate a Service → a RoutedIP attachment → the IP lands → the address is written back;
 * remove the annotation → the RoutedIP is deleted and finalized (Delete policy: cloud clean) →
 * the Service is let go. Every attachment sent is one the RoutedIP CRD accepts.
 */
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { applyStringUpdates } from '../../src/demo/metacontroller.js';
import { MANAGED_BY_LABEL, SERVICE_ANNOTATIONS as A } from '../../src/plan/service-routedip.js';
import type { DecoratorResponse } from '../../src/schemas/decorator.js';
import type { Service } from '../../src/schemas/kubernetes.js';
import type { RoutedIPObject } from '../../src/schemas/routed-ip.js';
import { NAMESPACE, service } from '../fixtures/k8s.js';
import { celViolations, crdSchema, errorLines, readDoc, schemaValidator } from '../manifests/k8s-schema.js';
import { ScriptedWorld } from './world.js';

const crd = readDoc('manifests/crds/routedips.yaml', 'CustomResourceDefinition');
const validate = schemaValidator(crd);

/** A Service with the routed-IP annotations, as the cluster holds it. */
function annotated(annotations: Record<string, string>): Service {
  const s = service('ingress-nginx', [80, 443]);
  return { ...s, metadata: { ...s.metadata, uid: 'uid-svc', annotations } };
}

/** The decorator call Metacontroller makes for `svc` with its observed attachment. */
async function decorate(app: FastifyInstance, svc: Service, attachment: RoutedIPObject | undefined, opts: { finalizing?: boolean; sameName?: RoutedIPObject } = {}) {
  const key = `${NAMESPACE}/${svc.metadata.name}`;
  const path = opts.finalizing ? '/service/finalize' : '/service/sync';
  const res = await app.inject({
    method: 'POST',
    url: path,
    payload: {
      controller: { kind: 'DecoratorController', metadata: { name: 'routedip-services' } },
      object: svc,
      attachments: { 'RoutedIP.routedip.io/v1alpha1': attachment ? { [key]: attachment } : {} },
      related: { 'RoutedIP.routedip.io/v1alpha1': opts.sameName ? { [key]: opts.sameName } : attachment ? { [key]: attachment } : {} },
      finalizing: opts.finalizing === true,
    },
  });
  if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}: ${res.payload}`);
  return res.json() as DecoratorResponse;
}

/** Plays Metacontroller: the Service's annotations updated, the attachment created/updated (InPlace keeps status and unmanaged fields). */
function apply(world: ScriptedWorld, svc: Service, answer: DecoratorResponse, t: Test): Service {
  const desired = answer.attachments[0] as RoutedIPObject | undefined;
  if (desired) {
    t.ok(validate(desired), `the RoutedIP CRD accepts the attachment: ${errorLines(validate).join('; ') || 'valid'}`);
    const old = world.parent.metadata.name === desired.metadata.name && world.parent.spec ? world.parent : undefined;
    t.same(celViolations(crdSchema(crd), desired, old, old !== undefined), [], 'and its CEL rules (immutability included)');
    world.parent = {
      ...desired,
      metadata: { ...desired.metadata, uid: 'uid-rip', generation: 1 },
      spec: { ...world.parent.spec, ...desired.spec } as RoutedIPObject['spec'],
      ...(world.parent.status ? { status: world.parent.status } : {}),
    };
  }
  const { result } = applyStringUpdates(svc.metadata.annotations, answer.annotations ?? {});
  return { ...svc, metadata: { ...svc.metadata, annotations: result } };
}

t.test('annotate → RoutedIP → address written back; remove → RoutedIP finalized, cloud clean, Service let go', async (t) => {
  const world = await new ScriptedWorld().start(t);
  let svc = annotated({ [A.issuer]: 'cloud', [A.nodeSelector]: 'kubernetes.io/hostname in (n1,n2)', [A.externalDns]: 'true' });

  let answer = await decorate(world.app, svc, undefined);
  t.equal(answer.attachments.length, 1);
  t.match(answer.attachments[0], {
    apiVersion: 'routedip.io/v1alpha1',
    kind: 'RoutedIP',
    metadata: { name: 'ingress-nginx', namespace: NAMESPACE, labels: { [MANAGED_BY_LABEL]: 'service' } },
    spec: { issuerRef: { name: 'cloud' }, serviceRef: { name: 'ingress-nginx' }, nodeSelector: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1', 'n2'] }] } },
  });
  t.equal((answer.attachments[0] as RoutedIPObject).spec?.address, undefined, 'no address: the RoutedIP allocates one');
  svc = apply(world, svc, answer, t);

  for (let i = 0; i < 5; i++) await world.sync();
  const address = world.status.address;
  t.ok(address && ['n1', 'n2'].includes(world.status.node ?? ''), `the IP landed on ${world.status.node} (node selector honoured)`);

  answer = await decorate(world.app, svc, world.parent);
  t.same(answer.annotations, {
    [A.address]: address,
    [A.allocatedAddress]: address,
    'external-dns.kubernetes.io/target': address,
    [A.problem]: null,
  });
  svc = apply(world, svc, answer, t);
  const settled = await decorate(world.app, svc, world.parent);
  t.same(settled, answer, 'steady state: the same answer');
  t.equal((settled.attachments[0] as RoutedIPObject).spec?.address, undefined, 'the written-back address is not read as a request to adopt it');
  t.equal(applyStringUpdates(svc.metadata.annotations, settled.annotations ?? {}).changed, false, 'nothing to write on the Service');

  // Remove the annotation: the finalize hook returns no attachment until the RoutedIP is gone.
  const { [A.issuer]: _gone, ...rest } = svc.metadata.annotations ?? {};
  svc = { ...svc, metadata: { ...svc.metadata, annotations: rest } };
  answer = await decorate(world.app, svc, world.parent, { finalizing: true });
  t.same(answer.attachments, [], 'Metacontroller deletes the RoutedIP');
  t.equal(answer.finalized, false, 'the Service waits for it');
  t.ok((answer.resyncAfterSeconds ?? 0) > 0);

  let done = false;
  for (let i = 0; i < 6 && !done; i++) done = (await world.finalize()).body.finalized === true;
  t.ok(done, 'the RoutedIP finalized');
  t.same(world.cloud.snapshot('ingress/cloud').ips, [], 'Delete policy: the address was released');

  answer = await decorate(world.app, svc, undefined, { finalizing: true });
  t.equal(answer.finalized, true, 'the Service is let go once the RoutedIP is gone');
  svc = apply(world, svc, answer, t);
  t.same(svc.metadata.annotations, { [A.nodeSelector]: 'kubernetes.io/hostname in (n1,n2)', [A.externalDns]: 'true' }, 'what was written is taken back; what the user wrote stays');
});

t.test('adopting an address: spec.address from the annotation, never dropped', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const existing = world.cloud.seedAddress('ingress/cloud').address;
  let svc = annotated({ [A.issuer]: 'cloud', [A.address]: existing });
  let answer = await decorate(world.app, svc, undefined);
  t.equal((answer.attachments[0] as RoutedIPObject).spec?.address, existing);
  svc = apply(world, svc, answer, t);
  for (let i = 0; i < 5; i++) await world.sync();
  t.equal(world.status.address, existing);
  answer = await decorate(world.app, svc, world.parent);
  t.equal(answer.annotations?.[A.allocatedAddress], null, 'an adopted address is not recorded as allocated');
  svc = apply(world, svc, answer, t);
  t.equal((await decorate(world.app, svc, world.parent)).attachments.length, 1);
  t.equal(((await decorate(world.app, svc, world.parent)).attachments[0] as RoutedIPObject).spec?.address, existing);
});

t.test('a hand edit of a managed field is reverted and reported; unmanaged fields are kept', async (t) => {
  const world = await new ScriptedWorld().start(t);
  let svc = annotated({ [A.issuer]: 'cloud', [A.nodeSelector]: 'pool=ingress' });
  svc = apply(world, svc, await decorate(world.app, svc, undefined), t);
  // Someone edits the RoutedIP: a managed field (nodeSelector) and an unmanaged one.
  world.parent = { ...world.parent, spec: { ...world.parent.spec!, nodeSelector: { matchLabels: { pool: 'other' } } } };
  const answer = await decorate(world.app, svc, world.parent);
  t.same((answer.attachments[0] as RoutedIPObject).spec?.nodeSelector, { matchLabels: { pool: 'ingress' } }, 'reverted to the annotation');
  t.match(answer.annotations?.[A.lastConflict], /spec\.nodeSelector edited on the RoutedIP and reverted/);
  svc = apply(world, svc, answer, t);
  const after = await decorate(world.app, svc, world.parent);
  t.equal(after.annotations?.[A.lastConflict], undefined, 'reported once; the report stays until the user removes it');
  t.equal(svc.metadata.annotations?.[A.lastConflict] !== undefined, true);
});

t.test('immutable fields and bad annotations are problems, never sent', async (t) => {
  const world = await new ScriptedWorld().start(t);
  let svc = annotated({ [A.issuer]: 'cloud' });
  svc = apply(world, svc, await decorate(world.app, svc, undefined), t);
  svc = { ...svc, metadata: { ...svc.metadata, annotations: { ...svc.metadata.annotations, [A.issuer]: 'other' } } };
  let answer = await decorate(world.app, svc, world.parent);
  t.same((answer.attachments[0] as RoutedIPObject).spec?.issuerRef, { name: 'cloud' }, 'issuerRef is kept');
  t.match(answer.annotations?.[A.problem], /issuerRef \(RoutedIPIssuer cloud\) is immutable/);
  apply(world, svc, answer, t);

  for (const [annotations, pattern] of [
    [{ [A.issuer]: 'cloud', [A.nodeSelector]: 'a in ()' }, /node-selector: invalid requirement/],
    [{ [A.issuer]: 'cloud', [A.address]: 'not-an-ip' }, /must be an IPv4 address/],
    [{ [A.issuer]: 'cloud', [A.issuerKind]: 'Issuer' }, /must be one of RoutedIPIssuer, ClusterRoutedIPIssuer/],
    [{ [A.issuer]: '' }, /must name an issuer/],
    [{ [A.issuer]: 'cloud', [A.externalDns]: 'yes please' }, /external-dns must be/],
  ] as const) {
    answer = await decorate(world.app, annotated(annotations), undefined);
    t.same(answer.attachments, [], `nothing created for ${JSON.stringify(annotations)}`);
    t.match(answer.annotations?.[A.problem], pattern);
  }
});

t.test('a RoutedIP of the same name that the Service does not manage is left alone', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const mine = { ...world.parent, metadata: { ...world.parent.metadata, name: 'ingress-nginx', uid: 'uid-explicit' } };
  const answer = await decorate(world.app, annotated({ [A.issuer]: 'cloud' }), undefined, { sameName: mine });
  t.same(answer.attachments, [], 'not taken over');
  t.match(answer.annotations?.[A.problem], /exists and is not managed by this Service/);
});

t.test('customize relates the RoutedIP of the Service name only', async (t) => {
  const world = await new ScriptedWorld().start(t);
  const res = await world.app.inject({ method: 'POST', url: '/service/customize', payload: { parent: annotated({ [A.issuer]: 'cloud' }) } });
  t.same(res.json(), { relatedResources: [{ apiVersion: 'routedip.io/v1alpha1', resource: 'routedips', namespace: NAMESPACE, names: ['ingress-nginx'] }] });
});
