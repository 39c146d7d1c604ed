/**
 * The narrow Hetzner Cloud client the issuer uses: the few calls on Floating IPs, Firewalls,
 * their actions and servers, over undici (already a dependency: no SDK for a dozen calls).
 * Every call passes the per-token rate budget first and feeds it the answer's `RateLimit-*`
 * headers; every request carries the hook session's signal (aborted at the deadline or when
 * Metacontroller gave up on the call), and no write starts once the deadline passed; every answer is checked against the TypeBox schemas of `schemas.ts`
 * (compiled once, by `isValid`); every failure
 * leaves as an `IssuerError`. There is no retry here: a 429 or a spent budget stops the hook
 * (answered 429 with `Retry-After`), and every other failure is retried by the next sync.
 * Reads go through the project's read cache (session module); writes drop it.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { request } from 'undici';
import { isValid } from '../../schemas/check.js';
import { IssuerQuotaError, IssuerUnavailableError } from '../errors.js';
import type { RateBudget } from '../rate-budget.js';
import type { HookSession } from '../session.js';
import { mapHetznerError } from './errors.js';
import {
  HActionSchema,
  HErrorSchema,
  HFirewallSchema,
  HFloatingIPSchema,
  HMetaSchema,
  HServerSchema,
  type HAction,
  type HFirewall,
  type HFloatingIP,
  type HRule,
  type HServer,
} from './schemas.js';

/** What `createFloatingIP` sends. */
export interface CreateFloatingIP {
  readonly type: 'ipv4';
  readonly name: string;
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly server: number;
}

/** The calls the issuer makes. Reads of a missing object resolve `undefined`. */
export interface HetznerClient {
  getServer(id: number): Promise<HServer | undefined>;
  /** Every Floating IP, or those matching a label selector. */
  listFloatingIPs(labelSelector?: string): Promise<HFloatingIP[]>;
  getFloatingIP(id: number): Promise<HFloatingIP | undefined>;
  /** Creates a Floating IP on a server; `action` is its assign, usually still running. */
  createFloatingIP(body: CreateFloatingIP): Promise<{ floatingIP: HFloatingIP; action?: HAction }>;
  assignFloatingIP(id: number, server: number): Promise<HAction>;
  unassignFloatingIP(id: number): Promise<HAction>;
  /** Deletes a Floating IP; one already gone is not an error. */
  deleteFloatingIP(id: number): Promise<void>;
  /** The newest actions of a Floating IP (a few), newest first; `undefined` when the IP is gone. */
  recentFloatingIPActions(id: number): Promise<HAction[] | undefined>;
  /** Firewalls named exactly `name` (names are unique per project: zero or one). */
  firewallsNamed(name: string): Promise<HFirewall[]>;
  getFirewall(id: number): Promise<HFirewall | undefined>;
  /** Running actions of a Firewall (rules or resources still being applied). */
  runningFirewallActions(id: number): Promise<HAction[]>;
  /** Replaces every rule of the Firewall (`set_rules`). */
  setRules(id: number, rules: readonly HRule[]): Promise<HAction[]>;
  /** Applies the Firewall to servers; a server it is already applied to is not an error. */
  applyToServers(id: number, servers: readonly number[]): Promise<HAction[]>;
  /** Removes the Firewall from servers; one it is not applied to is not an error. */
  removeFromServers(id: number, servers: readonly number[]): Promise<HAction[]>;
}

/** How to reach the API. */
export interface ClientOptions {
  readonly token: string;
  /** Base URL including `/v1`; `https://api.hetzner.cloud/v1` by default. */
  readonly endpoint?: string;
  readonly requestTimeoutMs: number;
  readonly budget: RateBudget;
  /** The hook call's session: its signal aborts every request at the deadline; no write starts after it. */
  readonly session: HookSession;
}

/** Hetzner's API base. */
export const HETZNER_ENDPOINT = 'https://api.hetzner.cloud/v1';
const PER_PAGE = 50;
/** Bounds every listing (50 × 20 objects); a project beyond that is reported, not looped over. */
const MAX_PAGES = 20;
/** How many of a Floating IP's newest actions are read: the newest decides. */
const RECENT_ACTIONS = 5;

interface CallOptions<S extends TSchema> {
  readonly body?: unknown;
  readonly query?: ReadonlyArray<readonly [string, string]>;
  /** The answer's schema (absent: no body expected). */
  readonly schema?: S;
  /** Error codes that mean "already so" and resolve `undefined`. */
  readonly already?: readonly string[];
  /** Resolve `undefined` on 404. */
  readonly missingOk?: boolean;
}

// Every answer schema is one module-level object: `isValid` compiles a check once per schema
// object and keeps it, so a schema built per call would compile (and keep) one per request.
const ActionsBody = Type.Object({ actions: Type.Array(HActionSchema) });
const ActionBody = Type.Object({ action: HActionSchema });
const ListActions = Type.Object({ actions: Type.Array(HActionSchema), meta: HMetaSchema });
const ServerBody = Type.Object({ server: HServerSchema });
const FloatingIPBody = Type.Object({ floating_ip: HFloatingIPSchema });
const CreatedFloatingIP = Type.Object({ floating_ip: HFloatingIPSchema, action: Type.Optional(Type.Union([HActionSchema, Type.Null()])) });
const FirewallBody = Type.Object({ firewall: HFirewallSchema });

/** A paginated listing: its objects under `key`, each checked against `item`, and one schema for its pages. */
interface Listing<T extends TSchema> {
  readonly key: string;
  readonly page: TSchema;
  readonly item: T;
}
const listing = <T extends TSchema>(key: string, item: T): Listing<T> => ({ key, item, page: Type.Object({ [key]: Type.Array(item), meta: HMetaSchema }) });
const FloatingIPListing = listing('floating_ips', HFloatingIPSchema);
const FirewallListing = listing('firewalls', HFirewallSchema);

/** Builds the client. */
export function createHetznerClient(options: ClientOptions): HetznerClient {
  const base = (options.endpoint ?? HETZNER_ENDPOINT).replace(/\/+$/, '');
  const { budget, session } = options;

  /**
   * GETs go through the project's read cache (session module; `cached` only while the hook call
   * reads that way), every other request drops it once answered or failed (a failed write may
   * have taken effect).
   */
  async function call<S extends TSchema>(what: string, method: 'GET' | 'POST' | 'DELETE', path: string, opts: CallOptions<S> = {}): Promise<Static<S> | undefined> {
    if (method === 'GET') {
      const qs = opts.query && opts.query.length > 0 ? `?${new URLSearchParams(opts.query as Array<[string, string]>).toString()}` : '';
      return session.read(`hetzner/${base}${path}${qs}`, what, () => send(what, method, path, opts));
    }
    try {
      return await send(what, method, path, opts);
    } finally {
      session.wrote();
    }
  }

  async function send<S extends TSchema>(what: string, method: 'GET' | 'POST' | 'DELETE', path: string, opts: CallOptions<S> = {}): Promise<Static<S> | undefined> {
    budget.check();
    if (session.signal.aborted) throw session.deadlineError(what);
    if (method !== 'GET') session.beforeWrite(what);
    const qs = opts.query && opts.query.length > 0 ? `?${new URLSearchParams(opts.query as Array<[string, string]>).toString()}` : '';
    let status: number;
    let headers: Record<string, unknown>;
    let text: string;
    try {
      const res = await request(`${base}${path}${qs}`, {
        method,
        headers: { authorization: `Bearer ${options.token}`, ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        headersTimeout: options.requestTimeoutMs,
        bodyTimeout: options.requestTimeoutMs,
        signal: session.signal,
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      if (session.signal.aborted) throw session.deadlineError(what);
      const code = (err as { code?: unknown }).code;
      throw new IssuerUnavailableError(`${what}: no answer from the Hetzner Cloud API (${typeof code === 'string' ? code : 'network error'})`, 'CloudUnreachable');
    }
    const limited = budget.observe(status, headers);
    if (limited) throw limited;
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new IssuerUnavailableError(`${what}: HTTP ${status} with a body that is not JSON`, 'CloudUnavailable');
    }
    if (status >= 400) {
      const failure = isValid(HErrorSchema, json) ? { status, code: json.error.code, message: json.error.message } : { status, code: '', message: '' };
      if (opts.already?.includes(failure.code)) return undefined;
      if (status === 404 && opts.missingOk) return undefined;
      throw mapHetznerError(failure, what);
    }
    if (!opts.schema) return undefined;
    if (!isValid(opts.schema, json)) {
      const first = [...Value.Errors(opts.schema, json)][0];
      throw new IssuerUnavailableError(`${what}: unexpected answer from Hetzner Cloud (${first ? `${first.path || '/'}: ${first.message}` : 'invalid'})`, 'CloudUnavailable');
    }
    return json as Static<S>;
  }

  async function all<T extends TSchema>(what: string, path: string, { key, page: schema }: Listing<T>, query: ReadonlyArray<readonly [string, string]> = []): Promise<Array<Static<T>>> {
    const out: Array<Static<T>> = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const data = (await call(what, 'GET', path, { schema, query: [...query, ['page', String(page)], ['per_page', String(PER_PAGE)]] })) as Record<string, unknown> & { meta: Static<typeof HMetaSchema> };
      out.push(...(data[key] as Array<Static<T>>));
      if (data.meta.pagination.next_page === null) return out;
    }
    throw new IssuerQuotaError(`${what}: more than ${MAX_PAGES * PER_PAGE} objects (${MAX_PAGES} pages of ${PER_PAGE}); the operator stops rather than decide on a partial list`, 'ListingTruncated');
  }

  const actions = async (what: string, path: string, query: ReadonlyArray<readonly [string, string]>) =>
    (await call(what, 'GET', path, { schema: ListActions, missingOk: true, query: [...query, ['sort', 'id:desc']] }))?.actions;

  return {
    getServer: async (id) => (await call(`read server ${id}`, 'GET', `/servers/${id}`, { schema: ServerBody, missingOk: true }))?.server,
    listFloatingIPs: async (selector) => {
      // A cached read of one owner's IPs (`key=value`) is answered from one listing of every IP
      // carrying the key, shared by all RoutedIPs of the project.
      const one = selector !== undefined && session.reads === 'cached' ? /^([^!=,\s]+)=([^=,\s]+)$/.exec(selector) : null;
      if (one) {
        const [, key, value] = one as unknown as [string, string, string];
        return (await all(`list Floating IPs labelled ${key}`, '/floating_ips', FloatingIPListing, [['label_selector', key]])).filter((f) => f.labels[key] === value);
      }
      return all(selector ? `list Floating IPs labelled ${selector}` : 'list Floating IPs', '/floating_ips', FloatingIPListing, selector ? [['label_selector', selector]] : []);
    },
    getFloatingIP: async (id) => (await call(`read Floating IP ${id}`, 'GET', `/floating_ips/${id}`, { schema: FloatingIPBody, missingOk: true }))?.floating_ip,
    createFloatingIP: async (body) => {
      const data = (await call(`create a Floating IP on server ${body.server}`, 'POST', '/floating_ips', { schema: CreatedFloatingIP, body }))!;
      return { floatingIP: data.floating_ip, ...(data.action ? { action: data.action } : {}) };
    },
    assignFloatingIP: async (id, server) => (await call(`assign Floating IP ${id} to server ${server}`, 'POST', `/floating_ips/${id}/actions/assign`, { schema: ActionBody, body: { server } }))!.action,
    unassignFloatingIP: async (id) => (await call(`unassign Floating IP ${id}`, 'POST', `/floating_ips/${id}/actions/unassign`, { schema: ActionBody }))!.action,
    // A 404 resolves like the 204: either way the IP is not there any more.
    deleteFloatingIP: async (id) => (await call(`delete Floating IP ${id}`, 'DELETE', `/floating_ips/${id}`, { missingOk: true }), undefined),
    recentFloatingIPActions: (id) => actions(`list actions of Floating IP ${id}`, `/floating_ips/${id}/actions`, [['per_page', String(RECENT_ACTIONS)]]),
    firewallsNamed: (name) => all(`find firewall ${name}`, '/firewalls', FirewallListing, [['name', name]]),
    getFirewall: async (id) => (await call(`read firewall ${id}`, 'GET', `/firewalls/${id}`, { schema: FirewallBody, missingOk: true }))?.firewall,
    runningFirewallActions: async (id) => (await actions(`list running actions of firewall ${id}`, `/firewalls/${id}/actions`, [['status', 'running'], ['per_page', String(PER_PAGE)]])) ?? [],
    setRules: async (id, rules) => (await call(`set the rules of firewall ${id}`, 'POST', `/firewalls/${id}/actions/set_rules`, { schema: ActionsBody, body: { rules } }))!.actions,
    applyToServers: async (id, servers) =>
      (await call(`apply firewall ${id} to servers ${servers.join(',')}`, 'POST', `/firewalls/${id}/actions/apply_to_resources`, {
        schema: ActionsBody, already: ['firewall_already_applied'], body: { apply_to: servers.map((s) => ({ type: 'server', server: { id: s } })) },
      }))?.actions ?? [],
    removeFromServers: async (id, servers) =>
      (await call(`remove firewall ${id} from servers ${servers.join(',')}`, 'POST', `/firewalls/${id}/actions/remove_from_resources`, {
        schema: ActionsBody, already: ['firewall_already_removed'], body: { remove_from: servers.map((s) => ({ type: 'server', server: { id: s } })) },
      }))?.actions ?? [],
  };
}
