/**
 * Complete DigitalOcean JSON objects (Region, Droplet, Action, Reserved IP, Firewall), shaped as
 * the real API answers them, so that every field the spec requires is present and a real client
 * parses the fake's answers exactly like production ones.
 */

/** A Region object (`region.yml`: name, slug, features, available, sizes are required). */
export function regionObject(slug: string) {
  return {
    name: `Region ${slug}`,
    slug,
    features: ['private_networking', 'backups', 'ipv6', 'metadata'],
    available: true,
    sizes: ['s-1vcpu-1gb', 's-2vcpu-2gb'],
  };
}

/** The fake's view of a Droplet. */
export interface FakeDroplet {
  readonly id: number;
  readonly name: string;
  readonly region: string;
  readonly publicIPv4: string;
  /** Its tags (tag membership of firewalls). */
  tags: string[];
}

/** A Droplet object with every required field of `droplet.yml`. */
export function dropletObject(d: FakeDroplet) {
  return {
    id: d.id,
    name: d.name,
    memory: 1024,
    vcpus: 1,
    disk: 25,
    locked: false,
    status: 'active',
    kernel: null,
    created_at: '2026-01-01T00:00:00Z',
    features: ['private_networking'],
    backup_ids: [],
    next_backup_window: null,
    snapshot_ids: [],
    image: {
      id: 63663980, name: '24.04 (LTS) x64', type: 'base', distribution: 'Ubuntu', slug: 'ubuntu-24-04-x64', public: true,
      regions: [d.region], created_at: '2026-01-01T00:00:00Z', min_disk_size: 20, size_gigabytes: 2.36, description: '', tags: [],
      status: 'available', error_message: '',
    },
    volume_ids: [],
    size: {
      slug: 's-1vcpu-1gb', memory: 1024, vcpus: 1, disk: 25, transfer: 1, price_monthly: 6, price_hourly: 0.00893,
      regions: [d.region], available: true, description: 'Basic',
    },
    size_slug: 's-1vcpu-1gb',
    networks: {
      v4: [
        { ip_address: `10.10.0.${d.id % 250}`, netmask: '255.255.0.0', gateway: '10.10.0.1', type: 'private' },
        { ip_address: d.publicIPv4, netmask: '255.255.240.0', gateway: '192.0.2.1', type: 'public' },
      ],
      v6: [],
    },
    region: regionObject(d.region),
    tags: [...d.tags],
    vpc_uuid: '5a4981aa-9653-4bd1-bef5-d6bff52042e4',
  };
}

/** The fake's view of an action. */
export interface FakeAction {
  readonly id: number;
  status: 'in-progress' | 'completed' | 'errored';
  readonly type: string;
  readonly resourceId: number;
  readonly resourceType: string;
  readonly region: string;
  readonly startedAt: string;
  completedAt: string | null;
}

/** An Action object (`action.yml`), with the reserved-IP `project_id` addition. */
export function actionObject(a: FakeAction, projectId: string) {
  return {
    id: a.id,
    status: a.status,
    type: a.type,
    started_at: a.startedAt,
    completed_at: a.completedAt,
    resource_id: a.resourceId,
    resource_type: a.resourceType,
    region: regionObject(a.region),
    region_slug: a.region,
    project_id: projectId,
  };
}

/** The fake's view of a firewall rule (inbound only is modelled in depth). */
export interface FakeRule {
  readonly protocol: string;
  readonly ports: string;
  readonly sources: { addresses?: string[]; droplet_ids?: number[]; load_balancer_uids?: string[]; tags?: string[] };
}

/** The fake's view of a firewall. */
export interface FakeFirewall {
  readonly id: string;
  name: string;
  dropletIds: number[];
  tags: string[];
  inbound: FakeRule[];
  outbound: Array<{ protocol: string; ports: string; destinations: FakeRule['sources'] }>;
  pending: Array<{ droplet_id: number; removing: boolean; status: string }>;
  /** Reads left before `pending` is applied. */
  pendingReads: number;
}

/** A Firewall object (`firewall.yml` + `firewall_rule.yml`). */
export function firewallObject(f: FakeFirewall) {
  return {
    id: f.id,
    name: f.name,
    status: f.pending.length > 0 ? 'waiting' : 'succeeded',
    created_at: '2026-01-01T00:00:00Z',
    pending_changes: f.pending.map((p) => ({ ...p })),
    droplet_ids: [...f.dropletIds],
    tags: [...f.tags],
    inbound_rules: f.inbound.map((r) => structuredClone(r)),
    outbound_rules: f.outbound.map((r) => structuredClone(r)),
  };
}
