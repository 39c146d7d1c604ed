/** FindRoutedIPPorts and the endpoint-node set: TCP/UDP only, serving slices only, dedupe, sort. */
import t from 'tap';
import { endpointNodes, findPorts, portKey, resolvePorts, sortPorts } from '../../src/plan/ports.js';
import type { EndpointSlice } from '../../src/schemas/kubernetes.js';
import { endpointSlice, pod } from '../fixtures/k8s.js';
import { tcp, udp } from './fixtures/plan.js';

type Ep = NonNullable<EndpointSlice['endpoints']>[number];
const raw = (endpoints: Ep[] | null | undefined, ports: EndpointSlice['ports'], name = 's'): EndpointSlice => ({
  metadata: { name },
  ...(endpoints !== undefined ? { endpoints } : {}),
  ...(ports !== undefined ? { ports } : {}),
});
const serving: Ep = { addresses: ['10.0.0.1'], nodeName: 'n1', conditions: { ready: true } };

const cases: Array<{ name: string; slices: EndpointSlice[]; want: ReturnType<typeof findPorts> }> = [
  { name: 'no slices: no ports', slices: [], want: [] },
  { name: 'TCP port of a ready endpoint', slices: [endpointSlice('svc', [{ nodeName: 'n1' }], [443])], want: [tcp(443)] },
  {
    name: 'TCP and UDP kept, SCTP dropped',
    slices: [
      endpointSlice('svc', [{ nodeName: 'n1' }], [
        { port: 53, protocol: 'UDP' },
        { port: 443, protocol: 'TCP' },
        { port: 3868, protocol: 'SCTP' },
      ]),
    ],
    want: [tcp(443), udp(53)],
  },
  { name: 'protocol absent defaults to TCP', slices: [raw([serving], [{ port: 80 }])], want: [tcp(80)] },
  { name: 'port absent is dropped', slices: [raw([serving], [{ protocol: 'TCP' }, { port: 80 }])], want: [tcp(80)] },
  { name: 'out of range ports are dropped', slices: [raw([serving], [{ port: 0 }, { port: 65536 }, { port: -1 }, { port: 65535 }])], want: [tcp(65535)] },
  {
    name: 'a slice whose endpoints are all not ready is ignored',
    slices: [endpointSlice('svc', [{ nodeName: 'n1', ready: false }], [80], 'a'), endpointSlice('svc', [{ nodeName: 'n2' }], [443], 'b')],
    want: [tcp(443)],
  },
  {
    name: 'a slice whose endpoints are all terminating is ignored',
    slices: [endpointSlice('svc', [{ nodeName: 'n1', terminating: true }], [80])],
    want: [],
  },
  {
    name: 'ready but terminating does not serve',
    slices: [raw([{ nodeName: 'n1', conditions: { ready: true, terminating: true } }], [{ port: 80 }])],
    want: [],
  },
  { name: 'a slice with no endpoints is ignored', slices: [raw([], [{ port: 80 }]), raw(null, [{ port: 81 }]), raw(undefined, [{ port: 82 }])], want: [] },
  { name: 'ready undefined counts as ready', slices: [raw([{ nodeName: 'n1', conditions: {} }], [{ port: 80 }])], want: [tcp(80)] },
  { name: 'conditions undefined counts as ready', slices: [raw([{ nodeName: 'n1' }], [{ port: 80 }])], want: [tcp(80)] },
  {
    name: 'one serving endpoint among non-serving ones is enough',
    slices: [endpointSlice('svc', [{ nodeName: 'n1', ready: false }, { nodeName: 'n2', terminating: true }, { nodeName: 'n3' }], [80])],
    want: [tcp(80)],
  },
  { name: 'ports null or absent: none', slices: [raw([serving], null), raw([serving], undefined)], want: [] },
  {
    name: 'duplicates across and within slices are merged',
    slices: [
      endpointSlice('svc', [{ nodeName: 'n1' }], [443, 443, 80], 'a'),
      endpointSlice('svc', [{ nodeName: 'n2' }], [{ port: 443, protocol: 'TCP' }, { port: 443, protocol: 'UDP' }], 'b'),
    ],
    want: [tcp(80), tcp(443), udp(443)],
  },
  {
    name: 'sorted by protocol then number (numerically, not as text)',
    slices: [
      endpointSlice('svc', [{ nodeName: 'n1' }], [
        { port: 9000, protocol: 'UDP' },
        { port: 10443, protocol: 'TCP' },
        { port: 53, protocol: 'UDP' },
        { port: 8080, protocol: 'TCP' },
        { port: 80, protocol: 'TCP' },
      ]),
    ],
    want: [tcp(80), tcp(8080), tcp(10443), udp(53), udp(9000)],
  },
];

for (const c of cases) {
  t.test(`findPorts: ${c.name}`, async (t) => {
    t.same(findPorts(c.slices), c.want);
    t.same(findPorts([...c.slices].reverse()), c.want, 'independent of slice order');
  });
}

t.test('endpointNodes: nodes hosting a ready, non-terminating endpoint', async (t) => {
  const slices = [
    endpointSlice('svc', [{ nodeName: 'n1' }, { nodeName: 'n2', ready: false }, { nodeName: 'n3', terminating: true }], [80], 'a'),
    endpointSlice('svc', [{ nodeName: 'n4' }, { nodeName: 'n1' }], [80], 'b'),
    raw([{ conditions: { ready: true } }, { nodeName: 'n5', conditions: {} }, { nodeName: 'n6', conditions: { ready: true, terminating: true } }], [{ port: 80 }]),
    raw(null, null),
  ];
  t.same([...endpointNodes(slices)].sort(), ['n1', 'n4', 'n5']);
  t.same([...endpointNodes([])], []);
});

t.test('portKey and sortPorts', async (t) => {
  t.equal(portKey(tcp(443)), 'tcp/443');
  t.equal(portKey(udp(53)), 'udp/53');
  const input = [udp(2), tcp(443), tcp(22), udp(1)];
  t.same(sortPorts(input), [tcp(22), tcp(443), udp(1), udp(2)]);
  t.same(input, [udp(2), tcp(443), tcp(22), udp(1)], 'input not mutated');
  t.same(sortPorts(new Set([tcp(2), tcp(1)])), [tcp(1), tcp(2)], 'any iterable');
});

// Node-facing ports (issue 8 item 2): hostNetwork, hostPort and mixed, spec.ports override.
const ingress = (on: Array<{ nodeName: string; pod?: string }>, ports: Array<number | { port: number; protocol: string }>) => [endpointSlice('ingress', on, ports)];
const selector = { app: 'ingress' };

t.test('hostNetwork pods: the endpoint port is the node port', async (t) => {
  const r = resolvePorts({ slices: ingress([{ nodeName: 'n1', pod: 'p1' }], [80, 443]), pods: [pod('p1', 'n1', [{ containerPort: 80 }, { containerPort: 443 }], { hostNetwork: true })], selector });
  t.same(r, { ports: [tcp(80), tcp(443)], from: 'pods' });
});

t.test("hostPort pods (Traefik's chart: containerPort 8000/8443, hostPort 80/443): the hostPorts are opened, not 8000/8443", async (t) => {
  const traefik = (name: string, node: string) => pod(name, node, [{ containerPort: 8000, hostPort: 80 }, { containerPort: 8443, hostPort: 443 }, { containerPort: 9000 }]);
  const slices = ingress([{ nodeName: 'n1', pod: 't1' }, { nodeName: 'n2', pod: 't2' }], [8000, 8443]);
  t.same(resolvePorts({ slices, pods: [traefik('t1', 'n1'), traefik('t2', 'n2')], selector }), { ports: [tcp(80), tcp(443)], from: 'pods' });
  t.same(findPorts(slices), [tcp(8000), tcp(8443)], 'the EndpointSlice ports alone would open the container ports');
});

t.test('mixed: hostPort for one port, hostNetwork pod for another, a UDP hostPort, and a port no pod publishes', async (t) => {
  const slices = [
    ...ingress([{ nodeName: 'n1', pod: 'hp' }], [8000, { port: 5353, protocol: 'UDP' }, 9100]),
    endpointSlice('ingress', [{ nodeName: 'n2', pod: 'hn' }], [8443], 'b'),
  ];
  const pods = [
    pod('hp', 'n1', [{ containerPort: 8000, hostPort: 80 }, { containerPort: 5353, hostPort: 53, protocol: 'UDP' }, { containerPort: 9100 }]),
    pod('hn', 'n2', [{ containerPort: 8443 }], { hostNetwork: true }),
  ];
  t.same(resolvePorts({ slices, pods, selector }), { ports: [tcp(80), tcp(8443), tcp(9100), udp(53)], from: 'pods+endpoints' }, '9100 has no hostPort: the endpoint port is kept');
});

t.test('a hostPort of another protocol does not count', async (t) => {
  const pods = [pod('p1', 'n1', [{ containerPort: 53, hostPort: 5353, protocol: 'UDP' }])];
  t.same(resolvePorts({ slices: ingress([{ nodeName: 'n1', pod: 'p1' }], [53]), pods, selector }).ports, [tcp(53)]);
});

t.test('only pods the Service selects and a serving endpoint names count', async (t) => {
  const slices = [endpointSlice('ingress', [{ nodeName: 'n1', pod: 'p1' }, { nodeName: 'n2', pod: 'p2', ready: false }], [8000])];
  const pods = [
    pod('p1', 'n1', [{ containerPort: 8000, hostPort: 80 }]),
    pod('p2', 'n2', [{ containerPort: 8000, hostPort: 8080 }]),
    pod('other', 'n1', [{ containerPort: 8000, hostPort: 81 }], { app: 'web' }),
  ];
  t.same(resolvePorts({ slices, pods, selector }).ports, [tcp(80)], 'not the unready p2, not the unselected pod');
  t.same(resolvePorts({ slices, pods, selector: null }).ports, [tcp(8000)], 'a Service without selector selects no pod: endpoint ports');
});

t.test('an endpoint without targetRef is served by the selected pods on its node', async (t) => {
  const pods = [pod('p1', 'n1', [{ containerPort: 8000, hostPort: 80 }]), pod('p2', 'n2', [{ containerPort: 8000, hostPort: 8080 }])];
  t.same(resolvePorts({ slices: ingress([{ nodeName: 'n1' }], [8000]), pods, selector }).ports, [tcp(80)]);
});

t.test('no pods delivered: the EndpointSlice ports, as before', async (t) => {
  t.same(resolvePorts({ slices: ingress([{ nodeName: 'n1', pod: 'p1' }], [8000]) }), { ports: [tcp(8000)], from: 'endpoints' });
});

t.test('spec.ports overrides everything: exactly those, TCP by default', async (t) => {
  const pods = [pod('p1', 'n1', [{ containerPort: 8000, hostPort: 80 }])];
  const r = resolvePorts({ slices: ingress([{ nodeName: 'n1', pod: 'p1' }], [8000]), pods, selector, explicit: [{ port: 443 }, { port: 53, protocol: 'UDP' }, { port: 443, protocol: 'TCP' }] });
  t.same(r, { ports: [tcp(443), udp(53)], from: 'spec.ports' });
  t.same(resolvePorts({ slices: [], explicit: [] }).ports, [], 'an empty list opens nothing');
});
