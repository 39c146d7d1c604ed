/**
 * The fake's operations, keyed by the spec's `operationId`. Each handler reads and changes the
 * model and returns the status and JSON body the real API answers, or throws `ApiError`.
 */
import { ApiError, sameRule, type DigitalOceanModel } from './model.js';
import { actionObject, dropletObject, firewallObject, regionObject, type FakeRule } from './objects.js';

/** What a handler gets. */
export interface RouteRequest {
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  /** `http://127.0.0.1:<port>/v2`, for `href`s. */
  readonly base: string;
}

/** What a handler returns. */
export interface RouteResponse {
  readonly status: number;
  readonly body?: unknown;
}

type Handler = (m: DigitalOceanModel, r: RouteRequest) => RouteResponse;

const notFound = () => new ApiError(404, 'not_found', 'The resource you requested could not be found.');
const unprocessable = (message: string) => new ApiError(422, 'unprocessable_entity', message);
const record = (body: unknown) => (body ?? {}) as Record<string, unknown>;

/** One page of `items`; `endless`: every page is the first one and another page always follows (a huge account). */
function page<T>(items: T[], query: URLSearchParams, base: string, path: string, endless = false) {
  const perPage = Number(query.get('per_page') ?? 20);
  const pageNo = Number(query.get('page') ?? 1);
  const slice = endless ? items.slice(0, perPage) : items.slice((pageNo - 1) * perPage, pageNo * perPage);
  const last = endless ? pageNo + 1 : Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number) => `${base}${path}?page=${p}&per_page=${perPage}`;
  const pages = pageNo < last ? { next: link(pageNo + 1), last: link(last) } : pageNo > 1 ? { first: link(1), prev: link(pageNo - 1) } : undefined;
  return { slice, links: pages ? { pages } : {}, meta: { total: items.length } };
}

function reservedIPObject(m: DigitalOceanModel, ip: string) {
  const r = m.reservedIPs.get(ip);
  if (!r) throw notFound();
  const d = r.dropletId === null ? undefined : m.droplets.get(r.dropletId);
  return { ip: r.ip, region: regionObject(r.region), droplet: d ? dropletObject(d) : null, locked: m.locked(ip), project_id: m.projectId };
}

function dropletFor(m: DigitalOceanModel, id: unknown, region?: string) {
  const d = typeof id === 'number' ? m.droplets.get(id) : undefined;
  if (!d) throw unprocessable('Droplet not found.');
  if (region !== undefined && d.region !== region) throw unprocessable('Reserved IPs can only be assigned to Droplets in the same datacenter.');
  if (m.dropletBusy(d.id)) throw unprocessable('Droplet already has a pending event.');
  return d;
}

function assignTo(m: DigitalOceanModel, ip: string, dropletId: number) {
  return m.startAction('assign_ip', m.reservedIPs.get(ip)!.region, () => {
    const r = m.reservedIPs.get(ip);
    if (r) r.dropletId = dropletId;
  }, ip, dropletId);
}

function firewall(m: DigitalOceanModel, id: string | undefined) {
  const f = id === undefined ? undefined : m.firewalls.get(id);
  if (!f) throw notFound();
  return f;
}

function checkRule(r: FakeRule): void {
  if ((r.protocol === 'tcp' || r.protocol === 'udp') && !/^(\d+(-\d+)?|all)$/.test(r.ports)) {
    throw new ApiError(400, 'bad_request', `invalid ports "${r.ports}"`);
  }
}

/** Individual Droplets one firewall may apply to (DigitalOcean's firewall limits page). */
export const FIREWALL_DROPLET_LIMIT = 10;
/** Tags one firewall may apply to (same page). */
export const FIREWALL_TAG_LIMIT = 5;
/** DigitalOcean's tag names (`tags/models/tags.yml`). */
const TAG_NAME = /^[a-zA-Z0-9_:-]{1,255}$/;

function tagObject(m: DigitalOceanModel, name: string) {
  const count = [...m.droplets.values()].filter((d) => d.tags.includes(name)).length;
  return { name, resources: { count, droplets: { count } } };
}

/** The Droplets of a tag request (`resources: [{resource_id, resource_type}]`); 404 for an unknown tag. */
function taggedDroplets(m: DigitalOceanModel, r: RouteRequest) {
  const tag = r.params.tag_id ?? '';
  if (!m.tags.has(tag)) throw notFound();
  const resources = (record(r.body).resources as Array<{ resource_id?: unknown; resource_type?: unknown }> | undefined) ?? [];
  if (!Array.isArray(resources) || resources.length === 0) throw new ApiError(400, 'bad_request', 'resources is required');
  const droplets = resources.map((x) => {
    if (x.resource_type !== 'droplet' || typeof x.resource_id !== 'string') throw new ApiError(400, 'bad_request', 'resource_id must be a string and resource_type droplet');
    const d = m.droplets.get(Number(x.resource_id));
    if (!d) throw notFound();
    return d;
  });
  return { tag, droplets, firewalls: [...m.firewalls.values()].filter((f) => f.tags.includes(tag)) };
}

/** Handlers by operationId. An operation of the spec missing here is not implemented by the fake. */
export const ROUTES: Record<string, Handler> = {
  reservedIPs_list: (m, r) => {
    const { slice, links, meta } = page([...m.reservedIPs.keys()], r.query, r.base, '/reserved_ips', m.options.endlessLists);
    return { status: 200, body: { reserved_ips: slice.map((ip) => reservedIPObject(m, ip)), links, meta } };
  },
  reservedIPs_get: (m, r) => ({ status: 200, body: { reserved_ip: reservedIPObject(m, r.params.reserved_ip ?? '') } }),
  reservedIPs_create: (m, r) => {
    const body = record(r.body);
    if (body.droplet_id !== undefined && body.region !== undefined) throw unprocessable('Cannot specify Droplet and region, they are mutually exclusive.');
    if (body.droplet_id === undefined) {
      const created = m.createReservedIP(String(body.region));
      return { status: 202, body: { reserved_ip: reservedIPObject(m, created.ip), links: {} } };
    }
    const d = dropletFor(m, body.droplet_id);
    if (m.ipOfDroplet(d.id)) throw unprocessable('Droplet already has a reserved IP assigned.');
    const created = m.createReservedIP(d.region);
    const action = assignTo(m, created.ip, d.id);
    return {
      status: 202,
      body: {
        reserved_ip: reservedIPObject(m, created.ip),
        links: {
          droplets: [{ id: d.id, rel: 'droplet', href: `${r.base}/droplets/${d.id}` }],
          actions: [{ id: action.id, rel: 'assign_ip', href: `${r.base}/actions/${action.id}` }],
        },
      },
    };
  },
  reservedIPs_delete: (m, r) => {
    const ip = r.params.reserved_ip ?? '';
    if (!m.reservedIPs.has(ip)) throw notFound();
    if (m.locked(ip)) throw unprocessable('The reserved IP already has a pending event.');
    m.reservedIPs.delete(ip);
    return { status: 204 };
  },
  reservedIPsActions_post: (m, r) => {
    const ip = r.params.reserved_ip ?? '';
    const rip = m.reservedIPs.get(ip);
    if (!rip) throw notFound();
    if (m.locked(ip)) throw unprocessable('The reserved IP already has a pending event.');
    const body = record(r.body);
    if (body.type === 'assign') {
      const d = dropletFor(m, body.droplet_id, rip.region);
      const other = m.ipOfDroplet(d.id);
      if (other && other.ip !== ip) throw unprocessable('Droplet already has a reserved IP assigned.');
      return { status: 201, body: { action: actionObject(assignTo(m, ip, d.id), m.projectId) } };
    }
    if (body.type === 'unassign') {
      if (rip.dropletId === null) throw unprocessable('The reserved IP is not assigned to a Droplet.');
      // The Droplet losing the IP has a pending event too until the unassign completed.
      const a = m.startAction('unassign_ip', rip.region, () => {
        rip.dropletId = null;
      }, ip, rip.dropletId);
      return { status: 201, body: { action: actionObject(a, m.projectId) } };
    }
    throw unprocessable(`unknown action type ${JSON.stringify(body.type)}`);
  },
  reservedIPsActions_list: (m, r) => {
    const ip = r.params.reserved_ip ?? '';
    if (!m.reservedIPs.has(ip)) throw notFound();
    const { slice, links, meta } = page(m.actionsOf(ip), r.query, r.base, `/reserved_ips/${ip}/actions`);
    return { status: 200, body: { actions: slice.map((a) => actionObject(a, m.projectId)), links, meta } };
  },
  reservedIPsActions_get: (m, r) => {
    const a = m.action(Number(r.params.action_id));
    if (!a || a.ip !== r.params.reserved_ip) throw notFound();
    return { status: 200, body: { action: actionObject(a, m.projectId) } };
  },
  actions_get: (m, r) => {
    const a = m.action(Number(r.params.action_id));
    if (!a) throw notFound();
    const { project_id: _p, ...action } = actionObject(a, m.projectId);
    return { status: 200, body: { action } };
  },
  droplets_get: (m, r) => {
    const d = m.droplets.get(Number(r.params.droplet_id));
    if (!d) throw notFound();
    return { status: 200, body: { droplet: dropletObject(d) } };
  },
  firewalls_list: (m, r) => {
    const { slice, links, meta } = page([...m.firewalls.values()], r.query, r.base, '/firewalls');
    return { status: 200, body: { firewalls: slice.map(firewallObject), links, meta } };
  },
  firewalls_get: (m, r) => ({ status: 200, body: { firewall: firewallObject(firewall(m, r.params.firewall_id)) } }),
  firewalls_assign_droplets: (m, r) => {
    const f = firewall(m, r.params.firewall_id);
    const ids = (record(r.body).droplet_ids as number[]) ?? [];
    for (const id of ids) if (!m.droplets.has(id)) throw unprocessable(`Droplet ${id} not found.`);
    // DigitalOcean: "a maximum of 10 Droplets per firewall and 5 tags per firewall"; past it the
    // add is refused with 422 (the public trace of the text: "... must have no more than 10 droplets").
    if (new Set([...f.dropletIds, ...ids]).size > FIREWALL_DROPLET_LIMIT) throw unprocessable(`firewall must have no more than ${FIREWALL_DROPLET_LIMIT} droplets`);
    for (const id of ids) {
      if (f.dropletIds.includes(id)) continue;
      f.dropletIds.push(id);
      m.pendFirewallChange(f, id, false);
    }
    return { status: 204 };
  },
  firewalls_delete_droplets: (m, r) => {
    const f = firewall(m, r.params.firewall_id);
    for (const id of (record(r.body).droplet_ids as number[]) ?? []) {
      if (!f.dropletIds.includes(id)) continue;
      f.dropletIds = f.dropletIds.filter((x) => x !== id);
      m.pendFirewallChange(f, id, true);
    }
    return { status: 204 };
  },
  firewalls_add_rules: (m, r) => {
    const f = firewall(m, r.params.firewall_id);
    const rules = (record(r.body).inbound_rules as FakeRule[] | null) ?? [];
    rules.forEach(checkRule);
    for (const rule of rules) if (!f.inbound.some((x) => sameRule(x, rule))) f.inbound.push(structuredClone(rule));
    return { status: 204 };
  },
  droplets_list: (m, r) => {
    const tag = r.query.get('tag_name');
    const all = [...m.droplets.values()].filter((d) => tag === null || d.tags.includes(tag)).sort((a, b) => a.id - b.id);
    const { slice, links, meta } = page(all, r.query, r.base, '/droplets');
    return { status: 200, body: { droplets: slice.map(dropletObject), links, meta } };
  },
  tags_create: (m, r) => {
    const name = record(r.body).name;
    if (typeof name !== 'string' || !TAG_NAME.test(name)) throw unprocessable('name may contain letters, numbers, colons, dashes, and underscores (at most 255)');
    m.tags.add(name);
    return { status: 201, body: { tag: tagObject(m, name) } };
  },
  tags_assign_resources: (m, r) => {
    const { tag, droplets, firewalls } = taggedDroplets(m, r);
    for (const d of droplets) {
      if (d.tags.includes(tag)) continue;
      d.tags.push(tag);
      for (const f of firewalls) m.pendFirewallChange(f, d.id, false);
    }
    return { status: 204 };
  },
  tags_unassign_resources: (m, r) => {
    const { tag, droplets, firewalls } = taggedDroplets(m, r);
    for (const d of droplets) {
      if (!d.tags.includes(tag)) continue;
      d.tags = d.tags.filter((t) => t !== tag);
      for (const f of firewalls) m.pendFirewallChange(f, d.id, true);
    }
    return { status: 204 };
  },
  firewalls_add_tags: (m, r) => {
    const f = firewall(m, r.params.firewall_id);
    const tags = (record(r.body).tags as string[] | null) ?? [];
    for (const t of tags) if (!m.tags.has(t)) throw unprocessable(`tag ${t} does not exist`);
    if (new Set([...f.tags, ...tags]).size > FIREWALL_TAG_LIMIT) throw unprocessable(`firewall must have no more than ${FIREWALL_TAG_LIMIT} tags`);
    for (const t of tags) {
      if (f.tags.includes(t)) continue;
      f.tags.push(t);
      for (const d of m.droplets.values()) if (d.tags.includes(t)) m.pendFirewallChange(f, d.id, false);
    }
    return { status: 204 };
  },
  firewalls_delete_tags: (m, r) => {
    const f = firewall(m, r.params.firewall_id);
    const tags = (record(r.body).tags as string[] | null) ?? [];
    f.tags = f.tags.filter((t) => !tags.includes(t));
    return { status: 204 };
  },
  firewalls_delete_rules: (m, r) => {
    const f = firewall(m, r.params.firewall_id);
    const rules = (record(r.body).inbound_rules as FakeRule[] | null) ?? [];
    f.inbound = f.inbound.filter((x) => !rules.some((rule) => sameRule(x, rule)));
    return { status: 204 };
  },
};
