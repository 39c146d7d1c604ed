/**
 * FindRoutedIP on DigitalOcean, where a reserved IP carries no tag, name or description, on an
 * account that other clusters and people share. An IP is this RoutedIP's only on evidence that
 * it made or recorded it (docs/design.md "Ownership"), never because it merely looks like it:
 *
 * 1. `spec.address`: adopted, exactly that one (never released).
 * 2. `status.address`, recorded by us: ours while it sits on a cluster droplet (a related node's,
 *    or the intent's target) or on no droplet (its droplet was destroyed; a move is running).
 *    On any other droplet someone took it: it is not ours any more.
 * 3. `status.createIntent`, recorded *before* any create was sent: an IP on the intent's target
 *    droplet that is not one of the addresses the region held when the intent was recorded.
 *    DigitalOcean allows one reserved IP per droplet and every create of an intent aims at its
 *    target, so at most one such IP exists, and a lost create answer is found again here.
 * Between siblings (several RoutedIPs created at once), the claim another RoutedIP recorded, or
 * an older intent on the same droplet, wins; two recorded claims go to the smaller uid.
 * No other IP of the account is ever claimed: not a settling one, not one on a cluster droplet.
 */
import { IssuerInvalidError, IssuerNotFoundError } from '../errors.js';
import type { FindRoutedIPQuery, ObservedRoutedIP, SiblingClaim } from '../issuer.js';
import type { DigitalOceanClient, DOReservedIP } from './client.js';
import { pendingActionOf, UNKNOWN_ACTION } from './mapping.js';

/** True when sibling `s`'s intent was recorded before ours (ties broken by uid). */
const olderIntent = (s: SiblingClaim, since: string, uid: string): boolean =>
  s.intent !== undefined && (s.intent.since < since || (s.intent.since === since && s.uid < uid));

/** The reserved IP this RoutedIP owns or adopts, as DigitalOcean shows it. */
export async function findReservedIP(
  client: DigitalOceanClient,
  region: string,
  query: FindRoutedIPQuery,
  regionIPs: () => Promise<DOReservedIP[]>,
): Promise<DOReservedIP | undefined> {
  if (query.address !== undefined) {
    const adopted = await client.getReservedIP(query.address);
    if (!adopted) throw new IssuerNotFoundError(`reserved IP ${query.address} (spec.address) does not exist in this account`, 'AddressNotFound');
    if (adopted.region.slug !== region) {
      throw new IssuerInvalidError(`reserved IP ${query.address} is in region ${adopted.region.slug}, not in the issuer's region ${region}`, 'AddressInWrongRegion');
    }
    return adopted;
  }
  const uid = query.owner.uid;
  const siblings = query.siblings ?? [];
  const intent = query.intent;
  const cluster = new Set([...query.nodes.map((n) => n.id), ...(intent ? [intent.target] : [])]);

  const last = query.lastKnownAddress;
  // Two RoutedIPs recording the same address (a race between first syncs): the smaller uid keeps it.
  if (last !== undefined && !siblings.some((s) => s.address === last && s.uid < uid)) {
    const known = await client.getReservedIP(last);
    if (known && known.region.slug === region && (known.droplet === null || cluster.has(String(known.droplet.id)))) return known;
  }
  if (!intent) return undefined;
  const before = new Set(intent.knownAddresses);
  const appeared = (await regionIPs()).find((r) => r.droplet !== null && String(r.droplet.id) === intent.target && !before.has(r.ip));
  if (!appeared) return undefined;
  if (siblings.some((s) => s.address === appeared.ip || (s.intent?.target === intent.target && olderIntent(s, intent.since, uid)))) return undefined;
  return appeared;
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
