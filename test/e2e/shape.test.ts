/**
 * The e2e scenarios' shape checks, on objects as the API server returns them. Runs in `npm test`
 * (no cluster needed): a check that cannot fail, or that fails on a correct object, would make
 * the e2e suite lie.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { RoutedIPStatusSchema } from '../../src/schemas/routed-ip.js';
import { repoRoot } from '../manifests/k8s-schema.js';
import { crdStatusSchema, hasFirewallPorts, portKeys, propertyPaths, prunedPaths, schemaErrors } from './shape.js';

const crd = parse(readFileSync(path.join(repoRoot, 'manifests', 'crds', 'routedips.yaml'), 'utf8'));

t.test('the port-change wait matches ports as the API server returns them (keys sorted)', async (t) => {
  // What GET returns after the service wrote [{protocol, port}]: Go's encoding/json sorts map keys.
  const stored = JSON.parse('{"status":{"firewall":{"ports":[{"port":443,"protocol":"tcp"},{"port":443,"protocol":"udp"}]}}}');
  t.ok(hasFirewallPorts(stored, [{ protocol: 'tcp', port: 443 }, { protocol: 'udp', port: 443 }]));
  t.ok(hasFirewallPorts(stored, [{ protocol: 'udp', port: 443 }, { protocol: 'tcp', port: 443 }]), 'order does not matter');
  t.notOk(hasFirewallPorts(stored, [{ protocol: 'tcp', port: 443 }]), 'a missing port is a difference');
  t.notOk(hasFirewallPorts(stored, [{ protocol: 'tcp', port: 80 }, { protocol: 'tcp', port: 443 }, { protocol: 'udp', port: 443 }]), 'an extra port is a difference');
  t.notOk(hasFirewallPorts({}, [{ protocol: 'tcp', port: 443 }]), 'no firewall status yet');
  t.same(portKeys([{ port: 443, protocol: 'udp', sources: ['0.0.0.0/0'] } as never, { protocol: 'tcp', port: 80 }]), ['tcp/80', 'udp/443']);
});

t.test('the generated CRD declares every status field of the TypeBox schema', async (t) => {
  const paths = propertyPaths(RoutedIPStatusSchema);
  t.ok(paths.includes('firewall.addedPorts[].sources') && paths.includes('conditions[].observedGeneration'), 'nested objects and arrays are walked');
  t.same(prunedPaths(RoutedIPStatusSchema, crdStatusSchema(crd)), []);
});

t.test('a CRD missing a status field is reported, one kept by preserve-unknown-fields is not', async (t) => {
  const status = structuredClone(crdStatusSchema(crd));
  delete status.properties.firewall.properties.sources;
  delete status.properties.steps.items.properties.detail;
  t.same(prunedPaths(RoutedIPStatusSchema, status), ['firewall.sources', 'steps[].detail']);
  status.properties.firewall = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  t.same(prunedPaths(RoutedIPStatusSchema, status), ['steps[].detail']);
});

t.test('schemaErrors names what breaks the schema', async (t) => {
  const good = { steps: [{ name: 'FindRoutedIP', outcome: 'done', detail: '' }], conditions: [] };
  t.same(schemaErrors(RoutedIPStatusSchema, good), []);
  const errors = schemaErrors(RoutedIPStatusSchema, { ...good, firewall: { id: 'f', name: 'n', ports: [], nodes: [] } });
  t.ok(errors.some((e) => e.startsWith('/firewall')), errors.join('; '));
  t.ok(schemaErrors(RoutedIPStatusSchema, { ...good, extra: 1 }).length > 0, 'an unknown field');
});
