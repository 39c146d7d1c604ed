/**
 * The Hetzner Cloud issuer: Floating IPs (IPv4) + Hetzner Cloud Firewalls, over the narrow
 * client of `client.ts`. One instance serves one hook call; the only state it keeps is what it
 * learnt in this call about Firewall changes still being applied, so an IP is never pointed at a
 * server before the Firewall protects it.
 *
 * Ownership: a created Floating IP carries the label `routedip.io/uid=<RoutedIP UID>` and the
 * unique name `routedip-<uid>`, both set by the create call itself, so it is found again by label
 * selector whatever happened to the create's answer or to the status, and a repeated create is
 * refused by the name instead of making a second IP. Only labelled IPs are ever deleted; one
 * with `protection.delete` is reported, never unprotected.
 *
 * Asynchronous actions: assign and unassign answer with an action, usually `running`; it is
 * returned as pending, the core records it and resyncs, and the next call reports the IP's
 * running action again until it finished. The IP's `server` changes only then.
 */
import type { Node } from '../../schemas/kubernetes.js';
import { IssuerBusyError, IssuerInvalidError, IssuerNotFoundError } from '../errors.js';
import type { ActionResult, FindRoutedIPQuery, FirewallRule, MarkedAddress, MarkedRule, NodeTarget, ObservedFirewall, ObservedRoutedIP, OrphanRelease, RoutedIPIssuer, RoutedIPOwner, RuleRevoke } from '../issuer.js';
import { parseMark } from '../marks.js';
import type { HetznerClient } from './client.js';
import { addRules, deleteRules, revokeMarked, type RuleWrite } from './firewall.js';
import {
  CLUSTER_LABEL,
  floatingIPName,
  idNumber,
  MANAGED_LABEL,
  MANAGED_VALUE,
  NAMESPACE_LABEL,
  observedFirewall,
  ownerSelector,
  pendingActionOf,
  portOf,
  serverIdFromProviderID,
  UID_LABEL,
  uidLabelValue,
} from './mapping.js';
import type { HAction, HFloatingIP } from './schemas.js';
import type { HookSession } from '../session.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the issuer needs besides the client. */
export interface HetznerIssuerOptions {
  readonly location: string;
  /** This cluster's identity, labelled on every Floating IP created (absent: no cluster label). */
  readonly cluster?: string;
  /** Called when a polled action ended in error (logged; the step is simply retried). */
  readonly onActionError?: (action: HAction) => void;
  /**
   * The hook call's session, when the issuer may leave out the action reads of a `cached` pass
   * (see `leavesOutActions`). Absent: every observation reads the actions.
   */
  readonly session?: Pick<HookSession, 'reads' | 'inferred' | 'deadline' | 'signal'>;
  /** `RoutedIPIssuer.objectScope`: the API endpoint (Hetzner Cloud ids are unique across projects). */
  readonly objectScope?: string;
}

/**
 * Waits between re-reads of the Firewall's running actions when an assign or create finds the
 * Firewall still being applied to its server (`awaitFirewall`): about 3 s in all, so a failover
 * usually assigns in the sync that added the node instead of one poll (5 s) later.
 */
export const FIREWALL_SETTLE_WAITS_MS: readonly number[] = [250, 500, 1000, 1250];

/** Time kept free after a settle wait for the assign or create it precedes (one write and its answer). */
export const FIREWALL_SETTLE_RESERVE_MS = 2500;

const DONE = { done: true } as const;

/** A namespace fits a label value as it is (a DNS label always does). */
const LABEL_SAFE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** The owner in the description a create writes (`RoutedIP <namespace>/<name>`). */
const DESCRIBED_OWNER = /^RoutedIP ([a-z0-9][-a-z0-9]*\/[a-z0-9][-.a-z0-9]*)$/;

/** A write's action as the contract's result; an errored action is a retryable failure. */
function actionResult(action: HAction | undefined): ActionResult {
  if (!action || action.status === 'success') return DONE;
  if (action.status === 'error') {
    const why = action.error ? `${action.error.code}: ${action.error.message}` : 'no detail';
    throw new IssuerBusyError(`Hetzner Cloud action ${action.id} (${action.command}) failed (${why}); it will be retried`, 'ActionErrored');
  }
  return { done: false, action: pendingActionOf(action) };
}

/** Implements `RoutedIPIssuer` for one location of one Hetzner Cloud project. */
export class HetznerIssuer implements RoutedIPIssuer {
  readonly provider = 'hetzner' as const;
  /** Servers with a Firewall change still running, as seen during this call. */
  private readonly firewallPending = new Set<string>();
  /** A Firewall's rules are still being applied (to every server it protects). */
  private rulesPending = false;
  /** The Firewall the last observation read (its running actions are what `awaitFirewall` re-reads). */
  private firewallSeen: number | undefined;

  readonly objectScope: string | undefined;

  constructor(private readonly client: HetznerClient, private readonly options: HetznerIssuerOptions) {
    this.objectScope = options.objectScope;
  }

  nodeTarget(node: Node): NodeTarget | undefined {
    const id = serverIdFromProviderID(node.spec?.providerID);
    return id === undefined ? undefined : { node: node.metadata.name, id };
  }

  /**
   * The contract's view of a Floating IP; undefined once gone. Its actions are read after the IP
   * itself, so they are the fresher view: a running one is the pending action, and the newest
   * successful assign/unassign says where the IP points even when the IP was read a moment
   * before that action finished (otherwise a finished move would look undone and be repeated).
   */
  private async observe(fip: HFloatingIP): Promise<ObservedRoutedIP | undefined> {
    const base = { address: fip.ip, id: String(fip.id) };
    if (this.leavesOutActions()) return { ...base, ...(fip.server !== null ? { holder: String(fip.server) } : {}) };
    const actions = await this.client.recentFloatingIPActions(fip.id);
    if (actions === undefined) return undefined;
    const newest = actions[0];
    if (newest?.status === 'running') return { ...base, ...(fip.server !== null ? { holder: String(fip.server) } : {}), pendingAction: pendingActionOf(newest) };
    let holder = fip.server !== null ? String(fip.server) : undefined;
    if (newest?.status === 'success' && newest.command === 'assign_floating_ip') holder = newest.resources.find((r) => r.type === 'server')?.id.toString() ?? holder;
    if (newest?.status === 'success' && newest.command === 'unassign_floating_ip') holder = undefined;
    return { ...base, ...(holder !== undefined ? { holder } : {}) };
  }

  /**
   * True in a `cached` pass (recorded as inferred: it may then only confirm the previous status),
   * where the actions of the Floating IP and of the Firewall are not read (issue 10: per Floating
   * IP they cost one request each per TTL, the listings are shared by the whole project). They
   * matter only for a change or a write: a running action is a pending move to follow (a status
   * with `pendingAction` never reads cached), the newest finished one corrects a `server` read a
   * moment before it finished (a holder that looks undone changes the status or plans a write,
   * so the sync reads again fresh), and a Firewall change still being applied stops an assign
   * (a write, made only after fresh reads). A move someone else started shows in the listing's
   * `server` once it finished, within the TTL.
   */
  private leavesOutActions(): boolean {
    const session = this.options.session;
    if (session?.reads !== 'cached') return false;
    session.inferred();
    return true;
  }

  async findRoutedIP(query: FindRoutedIPQuery): Promise<ObservedRoutedIP | undefined> {
    if (query.address !== undefined) {
      const adopted = (await this.client.listFloatingIPs()).find((f) => f.ip === query.address);
      if (!adopted) throw new IssuerNotFoundError(`Floating IP ${query.address} (spec.address) does not exist in this project`, 'AddressNotFound');
      return this.observe(adopted);
    }
    const foreign = new Set(query.foreignAddresses);
    const uid = uidLabelValue(query.owner);
    const mine = (await this.client.listFloatingIPs(ownerSelector(query.owner)))
      .filter((f) => f.labels[UID_LABEL] === uid && !foreign.has(f.ip))
      // Assigned first, then the oldest: a deterministic pick should two ever carry our label.
      .sort((a, b) => Number(b.server !== null) - Number(a.server !== null) || a.id - b.id);
    return mine[0] && this.observe(mine[0]);
  }

  /** Reads the target server: it must exist, be in the issuer's location and be protected already. */
  private async serverFor(node: NodeTarget): Promise<number> {
    const id = idNumber(node.id);
    if (id === undefined) throw new IssuerInvalidError(`node ${node.node} has no valid server id (${JSON.stringify(node.id)})`, 'InvalidNodeTarget');
    const server = await this.client.getServer(id);
    if (!server) throw new IssuerNotFoundError(`server ${id} of node ${node.node} does not exist`, 'ServerNotFound', true);
    if (server.location.name !== this.options.location) {
      throw new IssuerInvalidError(`server ${id} of node ${node.node} is in location ${server.location.name}, not in the issuer's location ${this.options.location}`, 'NodeInWrongRegion');
    }
    if (this.firewallApplying(node.id)) await this.awaitFirewall(node.id);
    if (this.firewallApplying(node.id)) {
      throw new IssuerBusyError(`the firewall is still being applied to server ${id}; waiting before pointing the IP at it`, 'FirewallChangePending');
    }
    return id;
  }

  async createRoutedIP(owner: RoutedIPOwner, node: NodeTarget): Promise<ObservedRoutedIP> {
    const server = await this.serverFor(node);
    let created: { floatingIP: HFloatingIP; action?: HAction };
    try {
      created = await this.client.createFloatingIP({
        type: 'ipv4',
        name: floatingIPName(owner),
        description: `RoutedIP ${owner.namespace}/${owner.name}`,
        labels: {
          [UID_LABEL]: uidLabelValue(owner),
          [MANAGED_LABEL]: MANAGED_VALUE,
          ...(LABEL_SAFE.test(owner.namespace) ? { [NAMESPACE_LABEL]: owner.namespace } : {}),
          ...(this.options.cluster !== undefined ? { [CLUSTER_LABEL]: this.options.cluster } : {}),
        },
        server,
      });
    } catch (err) {
      if ((err as { reason?: string }).reason !== 'NameTaken') throw err;
      // Our name is taken: a create whose answer was lost, or a concurrent sync. Take that IP.
      const existing = await this.findRoutedIP({ owner, nodes: [], foreignAddresses: [] });
      if (existing) return existing;
      throw new IssuerInvalidError(`a Floating IP named ${floatingIPName(owner)} exists but does not carry ${UID_LABEL}=${uidLabelValue(owner)}; rename or delete it`, 'NameTaken');
    }
    const { floatingIP, action } = created;
    const result = actionResult(action);
    return {
      address: floatingIP.ip,
      id: String(floatingIP.id),
      ...(floatingIP.server !== null ? { holder: String(floatingIP.server) } : {}),
      ...(result.done ? {} : { pendingAction: result.action }),
    };
  }

  async assignRoutedIP(ip: ObservedRoutedIP, node: NodeTarget): Promise<ActionResult> {
    if (ip.pendingAction) return { done: false, action: ip.pendingAction };
    if (ip.holder === node.id) return DONE;
    const server = await this.serverFor(node);
    return actionResult(await this.client.assignFloatingIP(this.fipId(ip), server));
  }

  async unassignRoutedIP(ip: ObservedRoutedIP): Promise<ActionResult> {
    if (ip.pendingAction) return { done: false, action: ip.pendingAction };
    if (ip.holder === undefined) return DONE;
    try {
      return actionResult(await this.client.unassignFloatingIP(this.fipId(ip)));
    } catch (err) {
      if ((err as { reason?: string }).reason === 'NotFound') return DONE;
      throw err;
    }
  }

  /**
   * DeleteRoutedIP: deletes a Floating IP this operator created (it carries our UID label). An
   * unlabelled one (an adopted `spec.address`) is refused whatever the caller thinks; one with
   * `protection.delete` is reported and left alone (the operator never changes protection).
   */
  async releaseRoutedIP(ip: ObservedRoutedIP): Promise<ActionResult> {
    if (ip.pendingAction) return { done: false, action: ip.pendingAction };
    const fresh = await this.client.getFloatingIP(this.fipId(ip));
    if (!fresh) return DONE;
    if (fresh.labels[UID_LABEL] === undefined) {
      throw new IssuerInvalidError(`refusing to delete Floating IP ${fresh.ip}: it carries no ${UID_LABEL} label, so this operator did not create it`, 'AddressNotOwned');
    }
    if (fresh.protection.delete) {
      throw new IssuerInvalidError(`Floating IP ${fresh.ip} has delete protection: the operator leaves it in place; disable the protection to let the RoutedIP be deleted`, 'DeleteProtected');
    }
    await this.client.deleteFloatingIP(fresh.id);
    return DONE;
  }

  /**
   * Orphan sweep, read side: every Floating IP labelled with a RoutedIP UID (one label-selector
   * listing), with its namespace and cluster labels; the owner for people comes from the
   * description the create wrote. Unlabelled IPs are never listed.
   */
  async listMarkedAddresses(): Promise<MarkedAddress[]> {
    const marked: MarkedAddress[] = [];
    for (const f of await this.client.listFloatingIPs(UID_LABEL)) {
      const uid = f.labels[UID_LABEL];
      if (uid === undefined || uid === '') continue;
      const described = DESCRIBED_OWNER.exec(f.description ?? '')?.[1];
      const namespace = f.labels[NAMESPACE_LABEL];
      const cluster = f.labels[CLUSTER_LABEL];
      marked.push({
        id: String(f.id),
        address: f.ip,
        uid,
        ...(described !== undefined ? { owner: described } : {}),
        ...(namespace !== undefined ? { namespace } : {}),
        ...(cluster !== undefined ? { cluster } : {}),
        associated: f.server !== null,
      });
    }
    return marked.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /**
   * Orphan sweep, write side: a fresh read of the Floating IP and its newest actions; deleted only
   * when it still carries the UID and cluster labels named, is on no server, has no action running
   * and no delete protection (the operator never changes protection).
   */
  async releaseOrphan(orphan: OrphanRelease): Promise<'released' | 'gone' | 'kept'> {
    const id = idNumber(orphan.id);
    if (id === undefined) return 'kept';
    const fresh = await this.client.getFloatingIP(id);
    if (!fresh) return 'gone';
    if (fresh.server !== null || fresh.protection.delete || fresh.labels[UID_LABEL] !== orphan.uid || fresh.labels[CLUSTER_LABEL] !== orphan.cluster) return 'kept';
    const actions = await this.client.recentFloatingIPActions(id);
    if (actions === undefined) return 'gone';
    if (actions.some((a) => a.status === 'running')) return 'kept';
    await this.client.deleteFloatingIP(id);
    return 'released';
  }

  private fipId(ip: ObservedRoutedIP): number {
    const id = idNumber(ip.id);
    if (id === undefined) throw new IssuerInvalidError(`Floating IP ${ip.address} has no valid id (${JSON.stringify(ip.id)})`, 'InvalidAddress');
    return id;
  }

  /**
   * Availability order keeps the IP off a server the Firewall does not cover yet, and Hetzner
   * applies a Firewall change asynchronously (seconds). Rather than leave the assign to the next
   * poll, re-read the Firewall's running actions a few times within the hook's deadline, keeping
   * `FIREWALL_SETTLE_RESERVE_MS` for the write that follows; whatever is still running then is
   * left to the next sync as before. Stops quietly when the call is aborted: the caller then reports
   * `FirewallChangePending`, and no write starts after the deadline.
   */
  private async awaitFirewall(nodeId: string): Promise<void> {
    const session = this.options.session;
    const firewallId = this.firewallSeen;
    if (session === undefined || firewallId === undefined) return;
    for (const wait of FIREWALL_SETTLE_WAITS_MS) {
      if (!this.firewallApplying(nodeId)) return;
      if (Date.now() + wait + FIREWALL_SETTLE_RESERVE_MS > session.deadline) return;
      try {
        await sleep(wait, undefined, { signal: session.signal });
      } catch {
        return;
      }
      this.replacePending(await this.client.runningFirewallActions(firewallId));
    }
  }

  /** True while a rule change, or the Firewall's application to server `nodeId`, is still running. */
  private firewallApplying(nodeId: string): boolean {
    return this.rulesPending || this.firewallPending.has(nodeId);
  }

  /** What a fresh observation of the Firewall's running actions shows replaces what an earlier one showed. */
  private replacePending(running: readonly HAction[]): void {
    this.rulesPending = false;
    this.firewallPending.clear();
    this.notePending(running);
  }

  /** Notes what running actions say is not applied yet. */
  private notePending(actions: readonly HAction[]): void {
    for (const a of actions) {
      if (a.status === 'error') this.options.onActionError?.(a);
      if (a.status !== 'running') continue;
      if (a.command === 'set_firewall_rules') this.rulesPending = true;
      for (const r of a.resources) if (r.type === 'server' && a.command !== 'remove_firewall') this.firewallPending.add(String(r.id));
    }
  }

  /** The one Firewall named `name` exactly, or undefined; several are refused. */
  private async firewallNamed(name: string) {
    const matches = (await this.client.firewallsNamed(name)).filter((f) => f.name === name);
    if (matches.length > 1) throw new IssuerInvalidError(`${matches.length} firewalls are named ${name}; rename all but one`, 'FirewallNameAmbiguous');
    return matches[0];
  }

  async findRoutedIPFirewall(name: string, owner: RoutedIPOwner): Promise<ObservedFirewall | undefined> {
    const fw = await this.firewallNamed(name);
    // What this observation shows replaces what an earlier one (possibly a cached read) showed.
    this.firewallSeen = fw?.id;
    this.replacePending(fw && !this.leavesOutActions() ? await this.client.runningFirewallActions(fw.id) : []);
    if (!fw) return undefined;
    return observedFirewall(fw, owner, this.options.cluster);
  }

  private firewallId(firewall: ObservedFirewall): number {
    const id = idNumber(firewall.id);
    if (id === undefined) throw new IssuerInvalidError(`firewall ${firewall.name} has no valid id`, 'InvalidFirewall');
    return id;
  }

  private ruleWrite(firewall: ObservedFirewall, owner: RoutedIPOwner): RuleWrite {
    const firewallId = this.firewallId(firewall);
    return { client: this.client, firewallId, owner, ...(this.options.cluster !== undefined ? { cluster: this.options.cluster } : {}) };
  }

  /** Orphan sweep, rules: every source of an inbound single-port rule carrying a RoutedIP mark. */
  async listMarkedRules(name: string): Promise<MarkedRule[]> {
    const fw = await this.firewallNamed(name);
    if (!fw) return [];
    return fw.rules.flatMap((rule) => {
      const port = portOf(rule);
      const mark = parseMark(rule.description);
      if (!port || !mark || !rule.description) return [];
      const description = rule.description;
      return (rule.source_ips ?? []).map((source) => ({ firewall: String(fw.id), ...port, source, mark: description, ...mark }));
    });
  }

  /** Orphan sweep, rules: see `revokeMarked`; only a mark of this issuer's cluster is ever revoked. */
  async revokeOrphanRule(orphan: RuleRevoke): Promise<'revoked' | 'gone' | 'kept'> {
    const firewallId = idNumber(orphan.firewall);
    const cluster = this.options.cluster;
    if (firewallId === undefined || cluster === undefined || parseMark(orphan.mark)?.cluster !== cluster) return 'kept';
    return (await revokeMarked({ client: this.client, firewallId }, orphan)) ? 'revoked' : 'gone';
  }

  async addRoutedIPFirewallPort(firewall: ObservedFirewall, rules: readonly FirewallRule[], owner: RoutedIPOwner): Promise<void> {
    if (rules.length > 0) this.notePending(await addRules(this.ruleWrite(firewall, owner), rules));
  }

  async deleteRoutedIPFirewallPort(firewall: ObservedFirewall, rules: readonly FirewallRule[], owner: RoutedIPOwner): Promise<void> {
    if (rules.length > 0) await deleteRules(this.ruleWrite(firewall, owner), rules);
  }

  async addRoutedIPFirewallNode(firewall: ObservedFirewall, node: NodeTarget): Promise<void> {
    const server = idNumber(node.id);
    if (server === undefined) throw new IssuerInvalidError(`node ${node.node} has no valid server id (${JSON.stringify(node.id)})`, 'InvalidNodeTarget');
    this.notePending(await this.client.applyToServers(this.firewallId(firewall), [server]));
  }

  /** Removes only a direct application: a label selector that matches the server is never touched. */
  async deleteRoutedIPFirewallNode(firewall: ObservedFirewall, nodeId: string): Promise<void> {
    const server = idNumber(nodeId);
    if (server === undefined) return;
    await this.client.removeFromServers(this.firewallId(firewall), [server]);
  }
}
