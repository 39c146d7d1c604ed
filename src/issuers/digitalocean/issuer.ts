/**
 * The DigitalOcean issuer: Reserved IPv4 + Cloud Firewalls, over the narrow client of
 * `client.ts`. One instance serves one hook call; the only state it keeps is which Droplets the
 * firewall is still being applied to (read in this call), so an assign never runs before the
 * firewall protects the Droplet it moves the IP to.
 *
 * Asynchronous actions: an assign (or a create on a Droplet) answers with an action that is
 * usually `in-progress`; it is returned as pending, the core records it and resyncs. The next
 * call sees the IP `locked` and reports the action again until it completed; the IP's `droplet`
 * changes only then. Nothing is posted on a locked IP (DigitalOcean would answer 422 "pending
 * event", which is mapped to `IssuerBusyError` anyway).
 */
import type { Node } from '../../schemas/kubernetes.js';
import { IssuerBusyError, IssuerInvalidError, IssuerNotFoundError } from '../errors.js';
import type { CreateIntent } from '../../schemas/routed-ip.js';
import type {
  ActionResult,
  AddressInventory,
  FindRoutedIPQuery,
  FirewallRule,
  NodeTarget,
  ObservedFirewall,
  ObservedRoutedIP,
  RoutedIPIssuer,
  RoutedIPOwner,
} from '../issuer.js';
import type { DigitalOceanClient, DOAction, DOReservedIP } from './client.js';
import { findReservedIP, observeReservedIP } from './find.js';
import { dropletIdFromProviderID, dropletNumber, inboundRule, observedFirewall, pendingActionOf, pendingDroplets, splitRules, UNKNOWN_ACTION, type TagMembership } from './mapping.js';

const actionResult = (action: DOAction): ActionResult => {
  if (action.status === 'completed') return { done: true };
  if (action.status === 'errored') throw new IssuerBusyError(`DigitalOcean action ${action.id} (${action.type}) errored; it will be retried`, 'ActionErrored');
  return { done: false, action: pendingActionOf(action) };
};

/** A droplet that already holds a reserved IP: another node must be elected (retryable). */
const holds = (id: number, node: NodeTarget, ip: string): IssuerBusyError =>
  new IssuerBusyError(`droplet ${id} of node ${node.node} already holds reserved IP ${ip} (one per droplet); another node will be elected`, 'DropletHoldsReservedIP');

/** Implements `RoutedIPIssuer` for one region of one DigitalOcean account. */
export class DigitalOceanIssuer implements RoutedIPIssuer {
  readonly provider = 'digitalocean' as const;
  readonly ownership = 'intent' as const;
  /** This call's listing of the region's reserved IPs, shared by the reads. */
  private listing?: Promise<DOReservedIP[]>;
  /** Droplets with a firewall change not applied yet, as seen during this call. */
  private readonly firewallPending = new Set<string>();
  /** Tag membership as last observed in this call (tag mode only). */
  private membership?: TagMembership & { readonly onFirewall: boolean };

  /**
   * `firewallTag` set: tag membership (the holder is tagged, the firewall applies to the tag);
   * absent: the holder's droplet id is added to the firewall (at most 10 per firewall).
   */
  constructor(
    private readonly client: DigitalOceanClient,
    private readonly region: string,
    private readonly firewallTag?: string,
  ) {}

  nodeTarget(node: Node): NodeTarget | undefined {
    const id = dropletIdFromProviderID(node.spec?.providerID);
    return id === undefined ? undefined : { node: node.metadata.name, id };
  }

  async findRoutedIP(query: FindRoutedIPQuery): Promise<ObservedRoutedIP | undefined> {
    // Each observation starts a fresh listing: finalize observes again after its deletes.
    this.listing = undefined;
    const rip = await findReservedIP(this.client, this.region, query, () => this.regionIPs());
    return rip ? observeReservedIP(this.client, rip) : undefined;
  }

  async addressInventory(): Promise<AddressInventory> {
    const ips = await this.regionIPs();
    return {
      addresses: ips.map((r) => r.ip).sort(),
      held: ips.flatMap((r) => (r.droplet ? [{ address: r.ip, holder: String(r.droplet.id) }] : [])).sort((a, b) => a.address.localeCompare(b.address)),
    };
  }

  /**
   * The region's reserved IPs, listed once per observation (`findRoutedIP` then
   * `addressInventory` share it; writes list afresh).
   */
  private regionIPs(): Promise<DOReservedIP[]> {
    this.listing ??= this.client.listReservedIPs().then((all) => all.filter((r) => r.region.slug === this.region));
    return this.listing;
  }

  /** Reads the target Droplet: it must exist, be in the issuer's region and be protected already. */
  private async dropletFor(node: NodeTarget): Promise<number> {
    const id = dropletNumber(node.id);
    if (id === undefined) throw new IssuerInvalidError(`node ${node.node} has no valid droplet id (${JSON.stringify(node.id)})`, 'InvalidNodeTarget', { node: node.node });
    const droplet = await this.client.getDroplet(id);
    if (!droplet) throw new IssuerNotFoundError(`droplet ${id} of node ${node.node} does not exist`, 'DropletNotFound', true);
    if (droplet.region.slug !== this.region) {
      throw new IssuerInvalidError(`droplet ${id} of node ${node.node} is in region ${droplet.region.slug}, not in the issuer's region ${this.region}`, 'NodeInWrongRegion', { node: node.node });
    }
    if (this.firewallPending.has(node.id)) {
      throw new IssuerBusyError(`the firewall is still being applied to droplet ${id}; waiting before pointing the IP at it`, 'FirewallChangePending');
    }
    return id;
  }

  /**
   * Creates the IP on the intent's target droplet only (every create of one intent aims at the
   * same droplet, and DigitalOcean allows one reserved IP per droplet, so at most one succeeds).
   * A fresh read first: an IP that appeared since the intent and is still settling may be our
   * own create whose answer was lost (wait for it); a droplet that holds an IP is not free
   * (`DropletHoldsReservedIP`, retryable: the next sync finds the IP or elects another node).
   */
  async createRoutedIP(_owner: RoutedIPOwner, node: NodeTarget, intent?: CreateIntent): Promise<ObservedRoutedIP> {
    if (intent?.target !== node.id) {
      throw new IssuerInvalidError(`no create intent for node ${node.node} was recorded in status; a reserved IP is only created once one is`, 'CreateIntentMissing');
    }
    const id = await this.dropletFor(node);
    const existing = (await this.client.listReservedIPs()).filter((r) => r.region.slug === this.region);
    const before = new Set(intent.knownAddresses);
    const settling = existing.find((r) => r.locked && r.droplet === null && !before.has(r.ip));
    if (settling) {
      throw new IssuerBusyError(`reserved IP ${settling.ip} appeared since the create intent and is still being assigned; waiting for it before creating`, 'ReservedIPSettling');
    }
    const held = existing.find((r) => r.droplet?.id === id);
    if (held) throw holds(id, node, held.ip);
    const { reservedIP, actionId } = await this.client.createReservedIPOnDroplet(id);
    const pendingAction = reservedIP.locked ? (actionId !== undefined ? { id: String(actionId), type: 'assign' } : UNKNOWN_ACTION) : undefined;
    return {
      address: reservedIP.ip,
      id: reservedIP.ip,
      ...(reservedIP.droplet ? { holder: String(reservedIP.droplet.id) } : {}),
      ...(pendingAction ? { pendingAction } : {}),
    };
  }

  async assignRoutedIP(ip: ObservedRoutedIP, node: NodeTarget): Promise<ActionResult> {
    if (ip.pendingAction) return { done: false, action: ip.pendingAction };
    if (ip.holder === node.id) return { done: true };
    const id = await this.dropletFor(node);
    return actionResult(await this.client.assignReservedIP(ip.address, id));
  }

  async unassignRoutedIP(ip: ObservedRoutedIP): Promise<ActionResult> {
    if (ip.pendingAction) return { done: false, action: ip.pendingAction };
    if (ip.holder === undefined) return { done: true };
    try {
      return actionResult(await this.client.unassignReservedIP(ip.address));
    } catch (err) {
      if ((err as { reason?: string }).reason === 'NotFound') return { done: true };
      if (!(err instanceof IssuerInvalidError)) throw err;
      // 422 on a stale view ("not assigned"): done when a fresh read agrees.
      const fresh = await this.client.getReservedIP(ip.address);
      if (!fresh || (fresh.droplet === null && !fresh.locked)) return { done: true };
      throw err;
    }
  }

  async releaseRoutedIP(ip: ObservedRoutedIP): Promise<ActionResult> {
    if (ip.pendingAction) return { done: false, action: ip.pendingAction };
    await this.client.deleteReservedIP(ip.address);
    return { done: true };
  }

  async findRoutedIPFirewall(name: string, _owner: RoutedIPOwner): Promise<ObservedFirewall | undefined> {
    const matches = (await this.client.listFirewalls()).filter((f) => f.name === name);
    if (matches.length > 1) throw new IssuerInvalidError(`${matches.length} firewalls are named ${name}; rename all but one`, 'FirewallNameAmbiguous');
    const fw = matches[0];
    // What this observation shows replaces what an earlier one (possibly a cached read) showed.
    this.firewallPending.clear();
    if (!fw) return undefined;
    for (const id of pendingDroplets(fw)) this.firewallPending.add(id);
    if (this.firewallTag === undefined) return observedFirewall(fw);
    const tagged = new Set((await this.client.listDropletsByTag(this.firewallTag)).map((d) => String(d.id)));
    this.membership = { tag: this.firewallTag, tagged, onFirewall: fw.tags?.includes(this.firewallTag) ?? false };
    return observedFirewall(fw, this.membership);
  }

  async addRoutedIPFirewallPort(firewall: ObservedFirewall, rules: readonly FirewallRule[], _owner: RoutedIPOwner): Promise<void> {
    if (rules.length > 0) await this.client.addInboundRules(firewall.id, rules.map(inboundRule));
  }

  /**
   * DigitalOcean removes only a rule that matches exactly (protocol, ports and every source
   * list), and one stored rule may mix our sources with others (ours added in one batch, then
   * narrowed). So the firewall is read again; each stored rule holding a source to remove is
   * replaced by the same rule without those sources (added first, so nothing that stays open
   * ever closes), then removed as it is.
   */
  async deleteRoutedIPFirewallPort(firewall: ObservedFirewall, rules: readonly FirewallRule[], _owner: RoutedIPOwner): Promise<void> {
    if (rules.length === 0) return;
    const fresh = await this.client.getFirewall(firewall.id);
    if (!fresh) return;
    const { replacements, removals } = splitRules(fresh.inbound_rules ?? [], rules);
    if (replacements.length > 0) await this.client.addInboundRules(firewall.id, replacements);
    if (removals.length > 0) await this.client.removeInboundRules(firewall.id, removals);
  }

  /**
   * Droplet-id membership adds the droplet to the firewall (at most 10 per firewall:
   * `FirewallDropletLimit` past it). Tag membership tags the droplet (creating the tag when
   * missing), then puts the tag on the firewall once, keeping its other tags and droplets.
   */
  async addRoutedIPFirewallNode(firewall: ObservedFirewall, node: NodeTarget): Promise<void> {
    const id = dropletNumber(node.id);
    if (id === undefined) throw new IssuerInvalidError(`node ${node.node} has no valid droplet id (${JSON.stringify(node.id)})`, 'InvalidNodeTarget', { node: node.node });
    if (this.firewallTag === undefined) await this.client.addDropletsToFirewall(firewall.id, [id]);
    else {
      await this.client.tagDroplet(this.firewallTag, id);
      if (!this.membership?.onFirewall) await this.client.addTagsToFirewall(firewall.id, [this.firewallTag]);
    }
    // DigitalOcean applies the firewall asynchronously; note whether it is applied yet so the
    // assign that follows in this call waits for it (availability order).
    const fresh = await this.client.getFirewall(firewall.id);
    if (fresh && pendingDroplets(fresh).has(node.id)) this.firewallPending.add(node.id);
  }

  /**
   * A droplet carrying the issuer's tag loses the tag (and only that: someone may have added it
   * by id too). Any other droplet the plan says is ours was added by id (droplet-id membership,
   * or before the issuer named a tag) and is removed by id.
   */
  async deleteRoutedIPFirewallNode(firewall: ObservedFirewall, nodeId: string): Promise<void> {
    const id = dropletNumber(nodeId);
    if (id === undefined) return;
    if (this.firewallTag !== undefined && this.membership?.tagged.has(nodeId)) await this.client.untagDroplet(this.firewallTag, id);
    else await this.client.removeDropletsFromFirewall(firewall.id, [id]);
  }
}
