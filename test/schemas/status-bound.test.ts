/**
 * The status has a bound (issue 7 item 2): with every spec field at its CRD maximum, 1,000 Nodes
 * with 253-character names, and failures whose details would list every node, the status the
 * hook returns stays far below etcd's ~1.5 MiB object limit, and the CRD accepts it.
 */
import t from 'tap';
import { MemoryCloud } from '../../src/issuers/memory/cloud.js';
import { createIssuerRegistry } from '../../src/issuers/registry.js';
import { STATUS_TEXT_MAX } from '../../src/schemas/routed-ip.js';
import { shapedRequest } from '../fixtures/maxima.js';
import { buildTestApp, syncRequestSettled } from '../helpers/app.js';
import { errorLines, readDoc, schemaValidator } from '../manifests/k8s-schema.js';

const validate = schemaValidator(readDoc('manifests/crds/routedips.yaml', 'CustomResourceDefinition'));
/**
 * Far below etcd's limit, leaving the object's spec and metadata room too. At the maxima the
 * ownership record dominates (status.firewall.addedPorts: 100 Service ports x 64 source ranges,
 * about 210 KiB), and it cannot be cut: it is the only list of entries this RoutedIP may remove.
 * Every text is cut to STATUS_TEXT_MAX, so the rest stays a few KiB however many nodes there are.
 */
const BOUND = 512 * 1024;
/** The status without its ownership record: texts and names only. */
const TEXT_BOUND = 32 * 1024;

for (const [what, eligible] of [
  ['converged at the maxima', 1000],
  ['no eligible node among 1,000 (the detail would list them all)', 0],
] as const) {
  t.test(`status size: ${what}`, async (t) => {
    const { app } = await buildTestApp(t, { registry: createIssuerRegistry({ memoryCloud: new MemoryCloud() }) });
    const request = shapedRequest({ nodes: 1000, maxima: true, eligible });
    const answer = await syncRequestSettled(app, request);
    t.equal(answer.statusCode, 200);
    const status = answer.body.status;
    const bytes = Buffer.byteLength(JSON.stringify(status));
    t.ok(bytes < BOUND, `status is ${bytes} bytes (bound ${BOUND})`);
    const rest = Buffer.byteLength(JSON.stringify({ ...status, firewall: status.firewall ? { ...status.firewall, addedPorts: [], sources: [] } : undefined }));
    t.ok(rest < TEXT_BOUND, `status without the ownership record is ${rest} bytes (bound ${TEXT_BOUND})`);
    for (const s of status.steps) t.ok(s.detail.length <= STATUS_TEXT_MAX, `${s.name} detail is bounded`);
    for (const c of status.conditions) t.ok(c.message.length <= STATUS_TEXT_MAX, `${c.type} message is bounded`);
    const object = { ...request.parent, status: { ...status, observedGeneration: 1 } };
    t.ok(validate(object), `the CRD accepts it: ${errorLines(validate).join('; ') || 'ok'}`);
    const ready = status.conditions.find((c) => c.type === 'Ready');
    t.equal(ready?.status, eligible > 0 ? 'True' : 'False', `${ready?.reason}: ${ready?.message.slice(0, 80)}`);
  });
}
