/**
 * The fake's operations, each named by the spec's `operationId` and matched by its path
 * template (so the fake still routes when the spec is absent). Each handler reads and changes
 * the model and returns the status and JSON body the real API answers, or throws `ApiError`.
 */
import { ApiError, matchesSelector, type HetznerModel } from './model.js';
import { actionObject, firewallObjectOf, floatingIPObject, locationObject, serverObject, LOCATIONS } from './views.js';

/** What a handler gets. */
export interface RouteRequest {
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

/** What a handler returns. */
export interface RouteResponse {
  readonly status: number;
  readonly body?: unknown;
}

type Handler = (m: HetznerModel, r: RouteRequest) => RouteResponse;

/** One operation of the fake. */
export interface Route {
  readonly operationId: string;
  readonly method: string;
  readonly template: string;
  readonly handler: Handler;
}

const record = (body: unknown) => (body ?? {}) as Record<string, unknown>;
const id = (r: RouteRequest) => {
  const n = Number(r.params.id);
  if (!Number.isSafeInteger(n)) throw new ApiError(400, 'invalid_input', 'invalid id');
  return n;
};

/** Hetzner pagination (`page`, `per_page` ≤ 50) with its `meta`. */
function paged<T>(items: T[], query: URLSearchParams): { items: T[]; meta: { pagination: Record<string, number | null> } } {
  const perPage = Math.min(50, Number(query.get('per_page') ?? 25));
  const page = Number(query.get('page') ?? 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    meta: { pagination: { page, per_page: perPage, previous_page: page > 1 ? page - 1 : null, next_page: page < last ? page + 1 : null, last_page: last, total_entries: items.length } },
  };
}

/** Actions filtered by `status` and sorted by `sort` (`id`, `id:asc`, `id:desc`). */
function actionList<T extends { id: number; status: string }>(actions: T[], query: URLSearchParams): T[] {
  const statuses = query.getAll('status');
  const out = actions.filter((a) => statuses.length === 0 || statuses.includes(a.status));
  const desc = query.getAll('sort').includes('id:desc');
  return out.sort((a, b) => (desc ? b.id - a.id : a.id - b.id));
}

const bySelector = <T extends { labels: Record<string, string> }>(items: T[], query: URLSearchParams) => {
  const selector = query.get('label_selector');
  return selector === null ? items : items.filter((i) => matchesSelector(i.labels, selector));
};

const resourceIds = (body: unknown, key: string): number[] => {
  const list = record(body)[key];
  if (!Array.isArray(list)) throw new ApiError(400, 'invalid_input', `${key} is required`);
  return list.map((r: { type?: string; server?: { id?: number } }) => {
    if (r.type !== 'server' || typeof r.server?.id !== 'number') throw new ApiError(400, 'invalid_input', 'only servers in this fake');
    return r.server.id;
  });
};

/** Every operation the fake implements. */
export const ROUTES: readonly Route[] = [
  { operationId: 'list_locations', method: 'GET', template: '/locations', handler: () => ({ status: 200, body: { locations: LOCATIONS.map(locationObject), meta: paged(LOCATIONS.slice(), new URLSearchParams()).meta } }) },
  {
    operationId: 'get_server', method: 'GET', template: '/servers/{id}',
    handler: (m, r) => {
      const s = m.servers.get(id(r));
      if (!s) throw new ApiError(404, 'not_found', `server with ID ${id(r)} not found`);
      return { status: 200, body: { server: serverObject(s, m) } };
    },
  },
  {
    operationId: 'list_floating_ips', method: 'GET', template: '/floating_ips',
    handler: (m, r) => {
      const name = r.query.get('name');
      const all = bySelector([...m.floatingIPs.values()], r.query).filter((f) => name === null || f.name === name).sort((a, b) => a.id - b.id);
      const { items, meta } = paged(all, r.query);
      return { status: 200, body: { floating_ips: items.map(floatingIPObject), meta } };
    },
  },
  {
    operationId: 'create_floating_ip', method: 'POST', template: '/floating_ips',
    handler: (m, r) => {
      const { floatingIP, action } = m.createFloatingIP(record(r.body) as never);
      return { status: 201, body: { floating_ip: floatingIPObject(floatingIP), ...(action ? { action: actionObject(action) } : {}) } };
    },
  },
  { operationId: 'get_floating_ip', method: 'GET', template: '/floating_ips/{id}', handler: (m, r) => ({ status: 200, body: { floating_ip: floatingIPObject(m.floatingIP(id(r))) } }) },
  { operationId: 'delete_floating_ip', method: 'DELETE', template: '/floating_ips/{id}', handler: (m, r) => (m.deleteFloatingIP(id(r)), { status: 204 }) },
  {
    operationId: 'list_actions_for_floating_ip', method: 'GET', template: '/floating_ips/{id}/actions',
    handler: (m, r) => {
      m.floatingIP(id(r));
      const { items, meta } = paged(actionList(m.actionsOf(id(r)), r.query), r.query);
      return { status: 200, body: { actions: items.map(actionObject), meta } };
    },
  },
  {
    operationId: 'assign_floating_ip_to_server', method: 'POST', template: '/floating_ips/{id}/actions/assign',
    handler: (m, r) => {
      const server = record(r.body).server;
      if (typeof server !== 'number') throw new ApiError(400, 'invalid_input', 'server is required');
      return { status: 201, body: { action: actionObject(m.assign(id(r), server)) } };
    },
  },
  { operationId: 'unassign_floating_ip', method: 'POST', template: '/floating_ips/{id}/actions/unassign', handler: (m, r) => ({ status: 201, body: { action: actionObject(m.unassign(id(r))) } }) },
  {
    operationId: 'list_firewalls', method: 'GET', template: '/firewalls',
    handler: (m, r) => {
      const name = r.query.get('name');
      const all = bySelector([...m.firewalls.values()], r.query).filter((f) => name === null || f.name === name).sort((a, b) => a.id - b.id);
      const { items, meta } = paged(all, r.query);
      return { status: 200, body: { firewalls: items.map((f) => firewallObjectOf(m, f)), meta } };
    },
  },
  { operationId: 'get_firewall', method: 'GET', template: '/firewalls/{id}', handler: (m, r) => ({ status: 200, body: { firewall: firewallObjectOf(m, m.firewall(id(r))) } }) },
  {
    operationId: 'list_actions_for_firewall', method: 'GET', template: '/firewalls/{id}/actions',
    handler: (m, r) => {
      m.firewall(id(r));
      const { items, meta } = paged(actionList(m.firewallActions(id(r)), r.query), r.query);
      return { status: 200, body: { actions: items.map(actionObject), meta } };
    },
  },
  {
    operationId: 'set_rules', method: 'POST', template: '/firewalls/{id}/actions/set_rules',
    handler: (m, r) => {
      const rules = record(r.body).rules;
      if (!Array.isArray(rules)) throw new ApiError(400, 'invalid_input', 'rules is required');
      return { status: 201, body: { actions: m.setRules(id(r), rules).map(actionObject) } };
    },
  },
  { operationId: 'apply_to_resources', method: 'POST', template: '/firewalls/{id}/actions/apply_to_resources', handler: (m, r) => ({ status: 201, body: { actions: m.applyTo(id(r), resourceIds(r.body, 'apply_to')).map(actionObject) } }) },
  { operationId: 'remove_from_resources', method: 'POST', template: '/firewalls/{id}/actions/remove_from_resources', handler: (m, r) => ({ status: 201, body: { actions: m.removeFrom(id(r), resourceIds(r.body, 'remove_from')).map(actionObject) } }) },
];

/** The route for `method pathname` (literal segments before parameters), with its path params. */
export function route(method: string, pathname: string): { route: Route; params: Record<string, string> } | undefined {
  const ordered = [...ROUTES].sort((a, b) => a.template.split('{').length - b.template.split('{').length);
  for (const r of ordered) {
    if (r.method !== method) continue;
    const names: string[] = [];
    const pattern = new RegExp(`^${r.template.replace(/\{([^}]+)\}/g, (_m, n: string) => (names.push(n), '([^/]+)'))}$`);
    const match = pattern.exec(pathname);
    if (match) return { route: r, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1] ?? '')])) };
  }
  return undefined;
}
