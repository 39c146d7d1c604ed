/**
 * Hetzner Cloud objects as the API returns them, complete enough that every field the spec
 * requires is present (the fake's answers are validated against it). Built from the model's
 * small records; nothing here holds state.
 */
import { matchesSelector } from './selector.js';

/** A location (`location` schema). */
export interface FakeLocation {
  readonly id: number;
  readonly name: string;
  readonly city: string;
  readonly country: string;
  readonly networkZone: string;
}

export const LOCATIONS: readonly FakeLocation[] = [
  { id: 1, name: 'fsn1', city: 'Falkenstein', country: 'DE', networkZone: 'eu-central' },
  { id: 2, name: 'nbg1', city: 'Nuremberg', country: 'DE', networkZone: 'eu-central' },
  { id: 3, name: 'hel1', city: 'Helsinki', country: 'FI', networkZone: 'eu-central' },
];

const CREATED = '2026-11-01T00:00:00+00:00';

export function locationObject(l: FakeLocation) {
  return { id: l.id, name: l.name, description: `${l.city} DC Park 1`, country: l.country, city: l.city, latitude: 50.47612, longitude: 12.370071, network_zone: l.networkZone };
}

/** A server record. */
export interface FakeServer {
  readonly id: number;
  readonly name: string;
  readonly location: FakeLocation;
  readonly labels: Record<string, string>;
}

export function serverObject(s: FakeServer, m?: { floatingIPs: Map<number, FakeFloatingIP>; firewalls: Map<number, FakeFirewall>; protectedServers(fw: FakeFirewall): number[] }) {
  const fips = m ? [...m.floatingIPs.values()].filter((f) => f.server === s.id).map((f) => f.id) : [];
  const fws = m ? [...m.firewalls.values()].filter((fw) => m.protectedServers(fw).includes(s.id)).map((fw) => ({ id: fw.id, status: 'applied' })) : [];
  const price = { location: s.location.name, price_hourly: { net: '0.0060', gross: '0.0071' }, price_monthly: { net: '3.7900', gross: '4.5101' }, included_traffic: 21990232555520, price_per_tb_traffic: { net: '1.0000', gross: '1.1900' } };
  return {
    id: s.id,
    name: s.name,
    status: 'running',
    created: CREATED,
    public_net: {
      ipv4: { id: s.id * 10, ip: `203.0.113.${s.id % 250}`, blocked: false, dns_ptr: `static.${s.id}.example` },
      ipv6: null,
      floating_ips: fips,
      firewalls: fws,
    },
    private_net: [],
    server_type: {
      id: 1, name: 'cx22', description: 'CX22', cores: 2, memory: 4, disk: 40, deprecated: false, prices: [price], storage_type: 'local', cpu_type: 'shared', architecture: 'x86', category: 'cost_optimized', deprecation: null, locations: [],
    },
    datacenter: {
      id: s.location.id, name: `${s.location.name}-dc14`, description: `${s.location.city} DC 14`, location: locationObject(s.location),
      server_types: { supported: [1], available: [1], available_for_migration: [1] },
    },
    location: locationObject(s.location),
    image: null,
    iso: null,
    rescue_enabled: false,
    locked: false,
    backup_window: null,
    outgoing_traffic: 0,
    ingoing_traffic: 0,
    included_traffic: 21990232555520,
    protection: { delete: false, rebuild: false },
    labels: { ...s.labels },
    volumes: [],
    load_balancers: [],
    primary_disk_size: 40,
    placement_group: null,
  };
}

/** A Floating IP record. */
export interface FakeFloatingIP {
  readonly id: number;
  readonly ip: string;
  name: string;
  description: string | null;
  labels: Record<string, string>;
  server: number | null;
  readonly home: FakeLocation;
  protection: { delete: boolean };
}

export function floatingIPObject(f: FakeFloatingIP) {
  return {
    id: f.id, name: f.name, description: f.description, ip: f.ip, type: 'ipv4', server: f.server,
    dns_ptr: [{ ip: f.ip, dns_ptr: `static.${f.id}.example` }], home_location: locationObject(f.home), blocked: false,
    protection: { delete: f.protection.delete }, labels: { ...f.labels }, created: CREATED,
  };
}

/** What a Firewall is applied to. */
export type FakeApplied = { readonly type: 'server'; readonly server: { readonly id: number } } | { readonly type: 'label_selector'; readonly label_selector: { readonly selector: string } };

/** A Firewall record. Rules are kept exactly as the last `set_rules` (or the seed) gave them. */
export interface FakeFirewall {
  readonly id: number;
  readonly name: string;
  labels: Record<string, string>;
  rules: unknown[];
  appliedTo: FakeApplied[];
}

/** An action (`action` schema). */
export interface FakeAction {
  readonly id: number;
  readonly command: string;
  status: 'running' | 'success' | 'error';
  progress: number;
  readonly started: string;
  finished: string | null;
  readonly resources: ReadonlyArray<{ readonly id: number; readonly type: string }>;
  error: { code: string; message: string } | null;
}

export function actionObject(a: FakeAction) {
  return { id: a.id, command: a.command, status: a.status, progress: a.progress, started: a.started, finished: a.finished, resources: a.resources.map((r) => ({ ...r })), error: a.error ? { ...a.error } : null };
}

/** A Firewall as the API shows it: rules as stored, label selectors with the servers they match. */
export function firewallObjectOf(m: { servers: Map<number, FakeServer> }, fw: FakeFirewall) {
  return {
    id: fw.id,
    name: fw.name,
    labels: { ...fw.labels },
    created: CREATED,
    rules: structuredClone(fw.rules),
    applied_to: fw.appliedTo.map((a) =>
      a.type === 'server'
        ? { type: 'server', server: { id: a.server.id } }
        : {
            type: 'label_selector',
            label_selector: { selector: a.label_selector.selector },
            applied_to_resources: [...m.servers.values()].filter((s) => matchesSelector(s.labels, a.label_selector.selector)).map((s) => ({ type: 'server', server: { id: s.id } })),
          },
    ),
  };
}
