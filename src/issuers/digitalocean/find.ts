/**
 * FindRoutedIP on DigitalOcean, where a reserved IP carries no tag, name or description.
 *
 * How a created IP is always found again (see docs/providers/digitalocean.md):
 * 1. The issuer creates an IP only *directly on the elected Droplet* (`POST /v2/reserved_ips
 *    {droplet_id}`), never unassigned, and never while another IP of the region is still
 *    settling (`locked` with no Droplet) — see `createRoutedIP`. DigitalOcean allows one
 *    reserved IP per Droplet, so once its assign completed every IP the operator created sits on
 *    a Droplet of the cluster.
 * 2. Lookup order: `spec.address` (adopt exactly that one); else `status.address` when it still
 *    exists in the region and no other RoutedIP claims it; else the IP on the last elected
 *    Droplet; else the one IP still settling from a create; else the IP on another candidate
 *    Droplet. Addresses other RoutedIPs report are never claimed.
 * So a lost create answer, a crash after the create or a lost/stale status all end with the
 * same IP found again instead of a second one created.
 */
import { IssuerInvalidError, IssuerNotFoundError } from '../errors.js';
import type { FindRoutedIPQuery, ObservedRoutedIP } from '../issuer.js';
import type { DigitalOceanClient, DOReservedIP } from './client.js';
import { pendingActionOf, UNKNOWN_ACTION } from './mapping.js';

/** The reserved IP this RoutedIP owns or adopts, as DigitalOcean shows it. */
export async function findReservedIP(client: DigitalOceanClient, region: string, query: FindRoutedIPQuery): Promise<DOReservedIP | undefined> {
  if (query.address !== undefined) {
    const adopted = await client.getReservedIP(query.address);
    if (!adopted) throw new IssuerNotFoundError(`reserved IP ${query.address} (spec.address) does not exist in this account`, 'AddressNotFound');
    if (adopted.region.slug !== region) {
      throw new IssuerInvalidError(`reserved IP ${query.address} is in region ${adopted.region.slug}, not in the issuer's region ${region}`, 'AddressInWrongRegion');
    }
    return adopted;
  }
  const foreign = new Set(query.foreignAddresses);
  const last = query.lastKnownAddress;
  if (last !== undefined && !foreign.has(last)) {
    const known = await client.getReservedIP(last);
    if (known && known.region.slug === region) return known;
  }
  const inRegion = (await client.listReservedIPs()).filter((r) => r.region.slug === region && !foreign.has(r.ip));
  const byDroplet = new Map<string, (typeof inRegion)[number]>();
  for (const r of inRegion) if (r.droplet !== null && !byDroplet.has(String(r.droplet.id))) byDroplet.set(String(r.droplet.id), r);
  const on = (id: string) => byDroplet.get(id);
  const elected = query.lastElected ? on(query.lastElected.id) : undefined;
  if (elected) return elected;
  // A create whose answer was lost is `locked` with no Droplet until its assign completes. The
  // issuer never creates while such an IP exists, so a single one is ours (or a sibling's whose
  // status is not delivered yet: that sibling reports it soon and it becomes foreign here).
  const settling = inRegion.filter((r) => r.locked && r.droplet === null);
  if (settling.length === 1) return settling[0];
  for (const id of query.nodes.map((n) => n.id).sort()) {
    const found = on(id);
    if (found) return found;
  }
  return undefined;
}

/**
 * The contract's view of a reserved IP. A `locked` IP has an action in progress: its newest
 * in-progress action is reported, or `UNKNOWN_ACTION` while that action is not queryable yet.
 */
export async function observeReservedIP(client: DigitalOceanClient, rip: DOReservedIP): Promise<ObservedRoutedIP | undefined> {
  const base = { address: rip.ip, id: rip.ip, ...(rip.droplet ? { holder: String(rip.droplet.id) } : {}) };
  if (!rip.locked) return base;
  const actions = await client.listReservedIPActions(rip.ip);
  if (actions === undefined) return undefined;
  const running = actions.filter((a) => a.status === 'in-progress').sort((a, b) => b.id - a.id)[0];
  return { ...base, pendingAction: running ? pendingActionOf(running) : UNKNOWN_ACTION };
}
