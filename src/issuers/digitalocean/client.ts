/**
 * The narrow DigitalOcean client the issuer uses (external-dns `Route53API` style): exactly the
 * dots-wrapper calls for Droplets, Actions and Cloud Firewalls, plus the `/v2/reserved_ips`
 * calls dots-wrapper lacks, made on the same axios instance (`modules.common.createContext`), so
 * auth, base URL and timeout are shared. Every call passes the per-token rate budget first and
 * feeds it the answer's headers; every failure leaves as an `IssuerError`.
 *
 * The two listings (reserved IPs, firewalls) go through the account's read cache (session
 * module): one answer serves every RoutedIP of the token while the hook call reads `cached`,
 * and a `cached` read of one reserved IP is answered from that listing. Every write drops the
 * token's cached answers, whatever its outcome.
 */
import axios, { isAxiosError, type AxiosResponse } from 'axios';
import { modules } from 'dots-wrapper';
import { IssuerQuotaError } from '../errors.js';
import { mapDigitalOceanError } from './errors.js';
import type { HookSession } from '../session.js';
import type { RateBudget } from '../rate-budget.js';

/** `region` of any DigitalOcean object. */
export interface DORegion {
  readonly slug: string;
}

/** The Droplet fields the issuer reads. */
export interface DODroplet {
  readonly id: number;
  readonly name: string;
  readonly region: DORegion;
  readonly tags?: readonly string[];
}

/** A reserved IP (`reserved_ip.yml`). `droplet` changes only once an assign completed. */
export interface DOReservedIP {
  readonly ip: string;
  readonly region: DORegion;
  readonly droplet: DODroplet | null;
  readonly locked: boolean;
}

/** An action (`action.yml`). */
export interface DOAction {
  readonly id: number;
  readonly status: string;
  readonly type: string;
}

/** An inbound firewall rule. */
export interface DOInboundRule {
  readonly protocol: string;
  readonly ports: string;
  readonly sources: { readonly addresses?: string[]; readonly droplet_ids?: number[]; readonly tags?: string[]; readonly load_balancer_uids?: string[] };
}

/** A Cloud Firewall. */
export interface DOFirewall {
  readonly id: string;
  readonly name: string;
  readonly droplet_ids?: number[] | null;
  /** Tags whose Droplets the firewall applies to (at most 5). */
  readonly tags?: string[] | null;
  readonly inbound_rules?: DOInboundRule[] | null;
  readonly pending_changes?: ReadonlyArray<{ readonly droplet_id: number; readonly removing: boolean; readonly status: string }>;
}

/** The calls the issuer makes. Reads of a missing object resolve `undefined`. */
export interface DigitalOceanClient {
  listReservedIPs(): Promise<DOReservedIP[]>;
  getReservedIP(ip: string): Promise<DOReservedIP | undefined>;
  /** Creates a reserved IP directly on a Droplet; `actionId` is the assign action it started. */
  createReservedIPOnDroplet(dropletId: number): Promise<{ reservedIP: DOReservedIP; actionId?: number }>;
  assignReservedIP(ip: string, dropletId: number): Promise<DOAction>;
  unassignReservedIP(ip: string): Promise<DOAction>;
  /** Resolves false when the IP no longer exists. */
  deleteReservedIP(ip: string): Promise<boolean>;
  /** Every action of a reserved IP that is visible yet; `undefined` when the IP is gone. */
  listReservedIPActions(ip: string): Promise<DOAction[] | undefined>;
  getDroplet(id: number): Promise<DODroplet | undefined>;
  listFirewalls(): Promise<DOFirewall[]>;
  getFirewall(id: string): Promise<DOFirewall | undefined>;
  addDropletsToFirewall(firewallId: string, dropletIds: number[]): Promise<void>;
  removeDropletsFromFirewall(firewallId: string, dropletIds: number[]): Promise<void>;
  addInboundRules(firewallId: string, rules: DOInboundRule[]): Promise<void>;
  removeInboundRules(firewallId: string, rules: DOInboundRule[]): Promise<void>;
  /** Every Droplet carrying `tag` (`GET /v2/droplets?tag_name=`), through the account's read cache like the other listings. */
  listDropletsByTag(tag: string): Promise<DODroplet[]>;
  /** Tags the Droplet, creating the tag first when it does not exist yet. */
  tagDroplet(tag: string, dropletId: number): Promise<void>;
  /** Removes `tag` from the Droplet; done when the tag (or the Droplet) no longer exists. */
  untagDroplet(tag: string, dropletId: number): Promise<void>;
  addTagsToFirewall(firewallId: string, tags: string[]): Promise<void>;
}

/** How to reach the API. */
export interface ClientOptions {
  readonly token: string;
  /** Base URL including `/v2`; DigitalOcean's by default. */
  readonly endpoint?: string;
  readonly requestTimeoutInMs: number;
  readonly budget: RateBudget;
  /** The hook call's session: its signal aborts every request at the deadline; no write starts after it. */
  readonly session: HookSession;
}

/** DigitalOcean's largest page. */
export const PER_PAGE = 200;
/**
 * Bounds every listing (50 pages of 200: 10,000 objects). An account beyond that fails the read
 * with `ListingTruncated` (a condition and a failed step naming the listing) instead of deciding
 * on a partial list: a reserved IP or firewall on page 51 would otherwise look absent.
 */
export const MAX_PAGES = 50;

/** Builds the client over one axios context shared by dots-wrapper and the reserved-IP calls. */
export function createDigitalOceanClient(options: ClientOptions): DigitalOceanClient {
  const context = modules.common.createContext({
    // The ESM and CommonJS typings of the same axios package differ nominally; the value is fine.
    axios: axios as unknown as Parameters<typeof modules.common.createContext>[0]['axios'],
    token: options.token,
    requestTimeoutInMs: options.requestTimeoutInMs,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
  });
  const http = context.httpClient;
  const { budget, session } = options;
  // Every request of this call (dots-wrapper's included: they share the instance) carries the
  // session's signal, and no write is sent once the deadline passed.
  http.interceptors.request.use((config) => {
    if ((config.method ?? 'get').toLowerCase() !== 'get') session.beforeWrite(`${config.method?.toUpperCase()} ${config.url ?? ''}`);
    config.signal = session.signal;
    return config;
  });
  // Our own writes make the account's cached listings stale: drop them once the answer (or the
  // failure: a write may take effect without one) is in.
  const isWrite = (method: string | undefined) => (method ?? 'get').toLowerCase() !== 'get';
  http.interceptors.response.use(
    (res) => {
      if (isWrite(res.config.method)) session.wrote();
      return res;
    },
    (err: unknown) => {
      if (isAxiosError(err) && isWrite(err.config?.method)) session.wrote();
      return Promise.reject(err);
    },
  );
  // Listings are named per endpoint: the account key is the token's, and one token may be used
  // against several endpoints (tests, compatible APIs).
  const cacheKey = (what: string) => `${what}@${options.endpoint ?? 'https://api.digitalocean.com/v2'}`;

  async function call<T>(what: string, run: () => Promise<Readonly<{ data: T; status: number; headers: object }>>): Promise<T> {
    budget.check();
    if (session.signal.aborted) throw session.deadlineError(what);
    try {
      const res = await run();
      budget.observe(res.status, res.headers as Record<string, unknown>);
      return res.data;
    } catch (err) {
      if (session.signal.aborted) throw session.deadlineError(what);
      if (isAxiosError(err) && err.response) {
        const limited = budget.observe(err.response.status, err.response.headers as Record<string, unknown>);
        if (limited) throw limited;
      }
      throw mapDigitalOceanError(err, what);
    }
  }
  async function orUndefined<T>(what: string, run: () => Promise<AxiosResponse<T> | Readonly<{ data: T; status: number; headers: object }>>): Promise<T | undefined> {
    try {
      return await call(what, run);
    } catch (err) {
      if ((err as { reason?: string }).reason === 'NotFound') return undefined;
      throw err;
    }
  }
  async function all<T>(what: string, key: string, path: string, params: Record<string, string> = {}): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const data = await call<Record<string, unknown>>(what, () => http.get(path, { params: { ...params, page, per_page: PER_PAGE } }));
      const items = (data[key] as T[] | undefined) ?? [];
      out.push(...items);
      const next = (data.links as { pages?: { next?: string } } | undefined)?.pages?.next;
      if (items.length < PER_PAGE || next === undefined) return out;
    }
    throw new IssuerQuotaError(
      `${what}: more than ${MAX_PAGES * PER_PAGE} objects (${MAX_PAGES} pages of ${PER_PAGE}); the operator stops rather than decide on a partial list`,
      'ListingTruncated',
    );
  }
  const ipPath = (ip: string) => `/reserved_ips/${encodeURIComponent(ip)}`;

  const getDroplet = modules.droplet.getDroplet(context);
  const getFirewall = modules.firewall.getFirewall(context);
  const addDroplets = modules.firewall.addDropletsToFirewall(context);
  const removeDroplets = modules.firewall.removeDropletsFromFirewall(context);
  const addRules = modules.firewall.addRulesToFirewall(context);
  const removeRules = modules.firewall.removeRulesFromFirewall(context);
  const addFirewallTags = modules.firewall.addTagsToFirewall(context);
  const createTag = modules.tag.createTag(context);
  const tagResources = modules.tag.tagResources(context);
  const untagResources = modules.tag.untagResources(context);
  const droplet = (id: number) => [{ resource_id: String(id), resource_type: 'droplet' }];

  const listReservedIPs = () => session.read(cacheKey('reserved_ips'), 'list reserved IPs', () => all<DOReservedIP>('list reserved IPs', 'reserved_ips', '/reserved_ips'));

  return {
    listReservedIPs,
    getReservedIP: async (ip) =>
      session.reads === 'cached'
        ? (await listReservedIPs()).find((r) => r.ip === ip)
        : (await orUndefined<{ reserved_ip: DOReservedIP }>(`read reserved IP ${ip}`, () => http.get(ipPath(ip))))?.reserved_ip,
    createReservedIPOnDroplet: async (dropletId) => {
      const data = await call<{ reserved_ip: DOReservedIP; links?: { actions?: Array<{ id: number }> } }>(
        `create a reserved IP on droplet ${dropletId}`,
        () => http.post('/reserved_ips', { droplet_id: dropletId }),
      );
      const actionId = data.links?.actions?.[0]?.id;
      return { reservedIP: data.reserved_ip, ...(actionId !== undefined ? { actionId } : {}) };
    },
    assignReservedIP: async (ip, dropletId) =>
      (await call<{ action: DOAction }>(`assign reserved IP ${ip} to droplet ${dropletId}`, () => http.post(`${ipPath(ip)}/actions`, { type: 'assign', droplet_id: dropletId }))).action,
    unassignReservedIP: async (ip) =>
      (await call<{ action: DOAction }>(`unassign reserved IP ${ip}`, () => http.post(`${ipPath(ip)}/actions`, { type: 'unassign' }))).action,
    deleteReservedIP: async (ip) => (await orUndefined(`release reserved IP ${ip}`, () => http.delete(ipPath(ip)))) !== undefined,
    listReservedIPActions: async (ip) => {
      const data = await orUndefined<{ actions: DOAction[] }>(`list actions of reserved IP ${ip}`, () => http.get(`${ipPath(ip)}/actions`, { params: { page: 1, per_page: PER_PAGE } }));
      return data?.actions;
    },
    getDroplet: async (id) => (await orUndefined(`read droplet ${id}`, () => getDroplet({ droplet_id: id })))?.droplet as DODroplet | undefined,
    listFirewalls: () => session.read(cacheKey('firewalls'), 'list firewalls', () => all<DOFirewall>('list firewalls', 'firewalls', '/firewalls')),
    getFirewall: async (id) => (await orUndefined(`read firewall ${id}`, () => getFirewall({ firewall_id: id })))?.firewall as DOFirewall | undefined,
    addDropletsToFirewall: async (id, ids) => void (await call(`add droplets ${ids.join(',')} to firewall ${id}`, () => addDroplets({ firewall_id: id, droplet_ids: ids }))),
    removeDropletsFromFirewall: async (id, ids) => void (await call(`remove droplets ${ids.join(',')} from firewall ${id}`, () => removeDroplets({ firewall_id: id, droplet_ids: ids }))),
    addInboundRules: async (id, rules) => void (await call(`add rules to firewall ${id}`, () => addRules({ firewall_id: id, inbound_rules: rules.map(copyRule), outbound_rules: [] }))),
    removeInboundRules: async (id, rules) => void (await call(`remove rules from firewall ${id}`, () => removeRules({ firewall_id: id, inbound_rules: rules.map(copyRule), outbound_rules: [] }))),
    listDropletsByTag: (tag) =>
      session.read(cacheKey(`droplets?tag_name=${tag}`), `list droplets tagged ${tag}`, () => all<DODroplet>(`list droplets tagged ${tag}`, 'droplets', '/droplets', { tag_name: tag })),
    tagDroplet: async (tag, id) => {
      const what = `tag droplet ${id} with ${tag}`;
      // The usual case (the tag exists) costs one request; a missing tag answers 404.
      if ((await orUndefined(what, () => tagResources({ tag_name: tag, resources: droplet(id) }))) !== undefined) return;
      await call(`create tag ${tag}`, () => createTag({ name: tag }));
      await call(what, () => tagResources({ tag_name: tag, resources: droplet(id) }));
    },
    untagDroplet: async (tag, id) => void (await orUndefined(`untag droplet ${id} (${tag})`, () => untagResources({ tag_name: tag, resources: droplet(id) }))),
    addTagsToFirewall: async (id, tags) => void (await call(`add tags ${tags.join(',')} to firewall ${id}`, () => addFirewallTags({ firewall_id: id, tags }))),
  };
}

const copyRule = (r: DOInboundRule) => ({ protocol: r.protocol, ports: r.ports, sources: { ...r.sources, ...(r.sources.addresses ? { addresses: [...r.sources.addresses] } : {}) } }) as never;
