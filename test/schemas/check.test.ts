/**
 * `isValid` is TypeBox's `Value.Check`, compiled once per schema: it must answer exactly what the
 * interpreter answers, for the patterns, formats (cidr, ipv4: src/schemas/formats.ts), unions,
 * bounds and closed objects the delivered specs and status hints are read with.
 */
import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { isValid, schemaProblem } from '../../src/schemas/check.js';
import { ConditionSchema, FirewallStatusSchema, RoutedIPIssuerSpecSchema, RoutedIPSpecSchema } from '../../src/schemas/routed-ip.js';

const spec = { issuerRef: { name: 'edge' }, serviceRef: { name: 'ingress-nginx' }, address: '203.0.113.7', nodeSelector: { matchLabels: { pool: 'ingress' } } };
const issuer = { routedIPReclaimPolicy: 'Delete', routedIPFirewallName: 'public', firewallSourceRanges: ['10.0.0.0/8', '::/0'], digitalocean: { region: 'nyc3', tokenSecretRef: { name: 'do-api' } } };
const condition = { type: 'Ready', status: 'True', reason: 'Assigned', message: 'ok', lastTransitionTime: '2026-11-28T12:00:00Z', observedGeneration: 3 };
const firewall = { id: 'fw-1', name: 'public', ports: [{ protocol: 'tcp', port: 443 }], nodes: ['n1'], addedPorts: [], addedNodes: [] };

const cases: Array<[string, TSchema, unknown]> = [
  ['a valid RoutedIP spec', RoutedIPSpecSchema, spec],
  ['an address that is no IPv4 (format)', RoutedIPSpecSchema, { ...spec, address: '203.0.113.700' }],
  ['an IPv6 address (format ipv4)', RoutedIPSpecSchema, { ...spec, address: '::1' }],
  ['a Service name against its pattern', RoutedIPSpecSchema, { ...spec, serviceRef: { name: 'Ingress_Nginx' } }],
  ['an issuerRef kind outside its union', RoutedIPSpecSchema, { ...spec, issuerRef: { name: 'edge', kind: 'Issuer' } }],
  ['no issuerRef', RoutedIPSpecSchema, { serviceRef: { name: 'x' } }],
  ['a nodeSelector with an unknown field (closed object)', RoutedIPSpecSchema, { ...spec, nodeSelector: { matchFields: [] } }],
  ['not an object', RoutedIPSpecSchema, 'edge'],
  ['a valid issuer spec', RoutedIPIssuerSpecSchema, issuer],
  ['a source range that is no CIDR (format)', RoutedIPIssuerSpecSchema, { ...issuer, firewallSourceRanges: ['10.0.0.0/33'] }],
  ['a region against its pattern', RoutedIPIssuerSpecSchema, { ...issuer, digitalocean: { region: 'NYC 3', tokenSecretRef: { name: 'do-api' } } }],
  ['a valid condition', ConditionSchema, condition],
  ['a condition with an extra field', ConditionSchema, { ...condition, extra: 1 }],
  ['a condition with a status outside its union', ConditionSchema, { ...condition, status: 'Maybe' }],
  ['a condition with a fractional generation', ConditionSchema, { ...condition, observedGeneration: 1.5 }],
  ['a condition message over its bound', ConditionSchema, { ...condition, message: 'x'.repeat(40_000) }],
  ['a valid firewall status', FirewallStatusSchema, firewall],
  ['a port out of range', FirewallStatusSchema, { ...firewall, ports: [{ protocol: 'tcp', port: 70000 }] }],
  ['a protocol outside its union', FirewallStatusSchema, { ...firewall, ports: [{ protocol: 'icmp', port: 1 }] }],
  ['null', FirewallStatusSchema, null],
];

t.test('isValid answers what Value.Check answers', async (t) => {
  let valid = 0;
  for (const [what, schema, value] of cases) {
    const expected = Value.Check(schema, value);
    t.equal(isValid(schema, value), expected, `${what}: ${expected ? 'valid' : 'invalid'}`);
    t.equal(isValid(schema, value), expected, `${what}: the same answer from the compiled check`);
    if (expected) valid += 1;
  }
  t.equal(valid, 4, 'the four valid fixtures are valid: the cases test both answers');
});

t.test('schemaProblem still names the field and what it must be', async (t) => {
  t.equal(schemaProblem(RoutedIPSpecSchema, spec, 'spec'), undefined);
  t.equal(schemaProblem(RoutedIPSpecSchema, { ...spec, address: '203.0.113.700' }, 'spec'), 'spec.address: must be at most 15 characters, a valid ipv4');
  t.equal(schemaProblem(RoutedIPIssuerSpecSchema, { ...issuer, firewallSourceRanges: ['10.0.0.0/33'] }, 'spec'), 'spec.firewallSourceRanges.0: must be at most 43 characters, a valid cidr');
});
