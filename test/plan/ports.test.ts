/** FindRoutedIPPorts and the endpoint-node set: TCP/UDP only, serving slices only, dedupe, sort. */
import t from 'tap';
import { endpointNodes, findPorts, portKey, sortPorts } from '../../src/plan/ports.js';
import type { EndpointSlice } from '../../src/schemas/kubernetes.js';
import { endpointSlice } from '../fixtures/k8s.js';
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
