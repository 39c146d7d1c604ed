/**
 * The one small contract between the reconcile layer and a cloud.
 *
 * An issuer is built per hook call from a RoutedIPIssuer spec and its credentials (see
 * `registry.ts`); it holds no state of its own between calls except what a cloud client caches.
 * Reads (`find*`) never mutate. Every write is idempotent: it MUST succeed when the cloud is
 * already in the target state (a port already open, a node already in the firewall, an IP
 * already on the node, an IP already released), because a crash or a lost response between the
 * write and the status update makes the next sync repeat it.
 *
 * Failures are thrown as the classes of `errors.ts`, never as SDK errors.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { CreateIntent, FirewallPort, IssuerKind, RoutedIPIssuerSpec } from '../schemas/routed-ip.js';
import type { Node, Secret } from '../schemas/kubernetes.js';
import type { HookSession } from './session.js';

/** Provider names, as the keys of the RoutedIPIssuer spec blocks. */
export type ProviderName = 'memory' | 'digitalocean' | 'aws' | 'hetzner';

/** Identifies a RoutedIP in the cloud (tags, descriptions, logs). `uid` is the Kubernetes UID. */
export interface RoutedIPOwner {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** A Kubernetes node resolved to the cloud machine behind it. */
export interface NodeTarget {
  /** Kubernetes node name. */
  readonly node: string;
  /** Cloud id: droplet id (`"123"`), EC2 instance id (`"i-…"`), Hetzner server id, node name for `memory`. */
  readonly id: string;
  /** Availability zone, when the providerID carries one (AWS). */
  readonly zone?: string;
}

/** An asynchronous cloud action still running (DigitalOcean assign/unassign). */
export interface PendingAction {
  readonly id: string;
  /** `assign`, `unassign`, `create` … */
  readonly type: string;
  /** Cloud id of the node the action moves the IP to, when it has one. */
  readonly target?: string;
}

/** A routed IP as observed in the cloud. */
export interface ObservedRoutedIP {
  /** The public IPv4 address. */
  readonly address: string;
  /** Cloud id (the address itself on DigitalOcean, `eipalloc-…` on AWS). */
  readonly id: string;
  /** Cloud id of the machine the IP points at now, if any. Changes only once a move completed. */
  readonly holder?: string;
  /** An action on the IP still in progress: the IP must not be touched until it completes. */
  readonly pendingAction?: PendingAction;
}

/** An inbound rule: one port and protocol, open to `sources` (CIDRs). */
export interface FirewallRule extends FirewallPort {
  readonly sources: readonly string[];
}

/** A cloud firewall (DigitalOcean Cloud Firewall, AWS security group) as observed. */
export interface ObservedFirewall {
  readonly id: string;
  readonly name: string;
  /** Inbound TCP/UDP rules, one entry per port and protocol (sources merged). */
  readonly rules: readonly FirewallRule[];
  /** Cloud ids of the machines the firewall applies to. */
  readonly nodes: readonly string[];
  /**
   * The (port, source) pairs this RoutedIP is marked as owning in the cloud itself (AWS rule
   * descriptions), when the cloud can carry such a mark. `undefined` = the cloud has no marks:
   * ownership then comes from `status.firewall` alone.
   */
  readonly owned?: readonly FirewallRule[];
  /**
   * The (port, source) pairs present in the cloud only under ANOTHER cluster's mark (see
   * `marks.ts`): never owned, never taken over, never removed, whatever a status claims.
   * `undefined` = the cloud has no marks.
   */
  readonly foreignMarked?: readonly FirewallRule[];
  /**
   * The machines (cloud ids) this RoutedIP is marked as owning in the firewall, when the cloud
   * can mark a membership (e.g. a droplet tag the firewall applies to). `undefined` = the cloud
   * has no node marks: ownership then comes from `status.firewall.addedNodes` alone. A marked
   * node counts as owned like a recorded one, and the mark is written by the add itself.
   */
  readonly ownedNodes?: readonly string[];
}

/** Result of a write that may complete asynchronously. */
export type ActionResult = { readonly done: true } | { readonly done: false; readonly action: PendingAction };

/** What another RoutedIP's (possibly stale) status claims, for ownership tie-breaks. */
export interface SiblingClaim {
  readonly uid: string;
  /** Its `status.address` (or adopted `spec.address`). */
  readonly address?: string;
  /** Its `status.createIntent`, when it is about to create. */
  readonly intent?: Pick<CreateIntent, 'target' | 'since'>;
}

/**
 * What a region holds, for clouds where the addresses themselves carry no mark (DigitalOcean):
 * every address (recorded in a create intent, so a later sync can tell a new address from one
 * that already existed) and which machine holds which (DigitalOcean allows one per machine).
 */
export interface AddressInventory {
  /** Every address of the issuer's region, sorted. */
  readonly addresses: readonly string[];
  /** The addresses held by a machine, with that machine's cloud id, sorted by address. */
  readonly held: readonly { readonly address: string; readonly holder: string }[];
}

/** Everything an issuer may use to find the RoutedIP's address again, stale status included. */
export interface FindRoutedIPQuery {
  readonly owner: RoutedIPOwner;
  /** `spec.address`: adopt exactly this address, never create. */
  readonly address?: string;
  /** `status.address`: last address reported (a hint; may be stale or lost). */
  readonly lastKnownAddress?: string;
  /** `status.electedNode` resolved, when known: where a create was last aimed. */
  readonly lastElected?: NodeTarget;
  /** Every related node that parses for this provider (where a created IP could be). */
  readonly nodes: readonly NodeTarget[];
  /** Addresses other RoutedIPs report: never to be claimed as this one's. */
  readonly foreignAddresses: readonly string[];
  /** `status.createIntent`: the evidence an address appearing on its target is ours. */
  readonly intent?: CreateIntent;
  /** Other RoutedIPs' claims (uid, address, intent), for tie-breaks between siblings. */
  readonly siblings?: readonly SiblingClaim[];
  /**
   * `routedIPFirewallName`, when set: in a `cached` pass an issuer may find the address from
   * that firewall's member listing, which FindRoutedIPFirewall reads anyway (AWS).
   */
  readonly firewallName?: string;
}

/**
 * An address carrying the operator's marks, as the orphan sweep lists it. Marks are read from
 * the cloud (tags, labels) and never guessed: a mark that is absent stays absent.
 */
export interface MarkedAddress {
  /** Cloud id (`eipalloc-…`, Floating IP id). */
  readonly id: string;
  readonly address: string;
  /** The RoutedIP UID mark. */
  readonly uid: string;
  /** The namespace of the RoutedIP that made it, when marked. */
  readonly namespace?: string;
  /** `namespace/name` of that RoutedIP, when marked (for people). */
  readonly owner?: string;
  /** The cluster mark (`CLUSTER_NAME` of the operator that made it); absent on addresses made without one. */
  readonly cluster?: string;
  /** Pointed at a machine or network interface now. */
  readonly associated: boolean;
}

/** What a sweep release must find again on a fresh read before it releases anything. */
export interface OrphanRelease {
  readonly id: string;
  readonly uid: string;
  readonly cluster: string;
}

/**
 * One (port, source) pair of a firewall rule carrying a RoutedIP mark (`marks.ts`), as the orphan
 * sweep lists it. The mark is read from the rule's description and never guessed.
 */
export interface MarkedRule extends FirewallPort {
  /** Cloud id of the firewall (`sg-…`, Hetzner Firewall id). */
  readonly firewall: string;
  readonly source: string;
  /** The description as read: what a revoke must find again. */
  readonly mark: string;
  /** The namespace the mark names. */
  readonly namespace: string;
  /** `namespace/name` as marked (a long name is a digest, see `markedOwner`). */
  readonly owner: string;
  /** The mark's cluster part; absent on a mark without one. */
  readonly cluster?: string;
}

/** What a sweep revoke must find again on a fresh read: the pair, still under exactly `mark`. */
export interface RuleRevoke extends FirewallPort {
  readonly firewall: string;
  readonly source: string;
  readonly mark: string;
}

/** The issuer contract. Step names are those of PRODUCT.md. */
export interface RoutedIPIssuer {
  /** Which provider block built this issuer. */
  readonly provider: ProviderName;

  /**
   * How a created address is recognised as this RoutedIP's. `mark` (the default): the create
   * writes a mark on it (an AWS tag, the memory cloud's owner), and `findRoutedIP` finds it by
   * that mark. `intent`: the cloud cannot mark an address (DigitalOcean), so a create is only
   * sent once a previous sync's status records a `CreateIntent`, and `createRoutedIP` receives it.
   */
  readonly ownership?: 'mark' | 'intent';

  /**
   * The region's addresses and the machines holding one. Implemented by `intent` issuers (the
   * intent records the addresses; the election avoids machines that already hold one). Read-only.
   */
  addressInventory?(): Promise<AddressInventory>;

  /**
   * The machines among `candidates` that cannot take `ip` (or a new address) because another
   * address already holds the place it would go on them (AWS: the primary private IP of the
   * primary interface). The election never picks them anew. Read-only; asked only for a fresh
   * election, since the holder keeps its address. Absent: no such limit, or `addressInventory`
   * says it (one address per machine).
   */
  occupiedMachines?(candidates: readonly NodeTarget[], ip: ObservedRoutedIP | undefined): Promise<ReadonlySet<string>>;

  /**
   * Resolves a node to its cloud machine from `spec.providerID`. Pure. Returns `undefined` when
   * the providerID does not parse for this provider (the node is then not eligible).
   */
  nodeTarget(node: Node): NodeTarget | undefined;

  /** FindRoutedIP: the address this RoutedIP owns or adopts, or `undefined`. Read-only. */
  findRoutedIP(query: FindRoutedIPQuery): Promise<ObservedRoutedIP | undefined>;

  /**
   * CreateRoutedIP: allocates a new address for `owner`, aimed at `node`, in a way that a later
   * `findRoutedIP` finds it again even if this call's response is lost. May return an IP whose
   * assignment to `node` is still pending (DigitalOcean creates directly on the droplet). An
   * `intent` issuer refuses to create without `intent` (recorded in an earlier status) aimed at `node`.
   */
  createRoutedIP(owner: RoutedIPOwner, node: NodeTarget, intent?: CreateIntent): Promise<ObservedRoutedIP>;

  /** AssignRoutedIP: points `ip` at `node`. Done when it already points there. */
  assignRoutedIP(ip: ObservedRoutedIP, node: NodeTarget): Promise<ActionResult>;

  /** Part of DeleteRoutedIP: detaches `ip` from any machine. Done when already detached. */
  unassignRoutedIP(ip: ObservedRoutedIP): Promise<ActionResult>;

  /** DeleteRoutedIP: releases `ip` (it must be unassigned). Done when already released. */
  releaseRoutedIP(ip: ObservedRoutedIP): Promise<ActionResult>;

  /**
   * Orphan sweep, read side: every address of the issuer's account and region carrying our UID
   * mark, whoever's RoutedIP it names (the caller decides which are orphans). Absent on clouds
   * whose addresses carry no mark (DigitalOcean): an orphan there cannot be told from a foreign IP.
   */
  listMarkedAddresses?(): Promise<MarkedAddress[]>;

  /**
   * Where the ids the sweep lists (addresses, firewalls) name one cloud object: the cloud's API and
   * region, never the credentials, so two issuers reaching the same account with other credentials
   * name the same scope, and the orphan metric counts an object once. Absent: the session's account.
   */
  readonly objectScope?: string;

  /**
   * Orphan sweep, write side: re-reads address `id` and releases it only when it still carries
   * the UID mark `uid` and the cluster mark `cluster`, is pointed at nothing and has no action
   * running. `released` (this call released it), `gone` (the fresh read, or the release, found it
   * gone already: another sweep, or someone, removed it) or `kept` (the fresh read refused it).
   */
  releaseOrphan?(orphan: OrphanRelease): Promise<'released' | 'gone' | 'kept'>;

  /**
   * Orphan sweep, read side for rules: every (port, source) pair of the firewall named `firewall`
   * whose rule carries a RoutedIP mark, of any cluster (the caller decides which are orphans); none
   * when it does not exist. Absent on clouds whose rules carry no mark.
   */
  listMarkedRules?(firewall: string): Promise<MarkedRule[]>;

  /**
   * Orphan sweep, write side for rules: re-reads the firewall and removes the pair only when its
   * rule still carries exactly `orphan.mark`, a mark of this issuer's cluster; every other rule is
   * kept as read. `revoked` (this call removed it), `gone` (no pair under that mark any more) or
   * `kept`.
   */
  revokeOrphanRule?(orphan: RuleRevoke): Promise<'revoked' | 'gone' | 'kept'>;

  /** FindRoutedIPFirewall: the firewall named `name`, or `undefined` when none exists. Read-only. */
  findRoutedIPFirewall(name: string, owner: RoutedIPOwner): Promise<ObservedFirewall | undefined>;

  /** AddRoutedIPFirewallPort: opens `rules` on `firewall`, marked as `owner`'s where the cloud allows. */
  addRoutedIPFirewallPort(firewall: ObservedFirewall, rules: readonly FirewallRule[], owner: RoutedIPOwner): Promise<void>;

  /** DeleteRoutedIPFirewallPort: removes exactly `rules` (which the caller owns). Absent = done. */
  deleteRoutedIPFirewallPort(firewall: ObservedFirewall, rules: readonly FirewallRule[], owner: RoutedIPOwner): Promise<void>;

  /** AddRoutedIPFirewallNode: applies `firewall` to `node`, keeping everything else it has. */
  addRoutedIPFirewallNode(firewall: ObservedFirewall, node: NodeTarget): Promise<void>;

  /** DeleteRoutedIPFirewallNode: removes `firewall` from the machine `nodeId`. Absent = done. */
  deleteRoutedIPFirewallNode(firewall: ObservedFirewall, nodeId: string): Promise<void>;
}

/** What a factory gets: the issuer object, the Secrets of its namespace that were delivered, and the call's session. */
export interface IssuerContext {
  /** @default 'RoutedIPIssuer' */
  readonly kind?: IssuerKind;
  /** The issuer's namespace; for a ClusterRoutedIPIssuer, the operator's (where its Secrets are). */
  readonly namespace: string;
  readonly name: string;
  readonly spec: RoutedIPIssuerSpec;
  /** Secrets delivered with the call (labelled `routedip.io/issuer`), keyed by name, same namespace. */
  readonly secrets: ReadonlyMap<string, Secret>;
  readonly logger: FastifyBaseLogger;
  /**
   * This cluster's identity (`CLUSTER_NAME`), marked on every address created so that the orphan
   * sweep of one cluster never takes another's in a shared account. Absent: no cluster mark.
   */
  readonly cluster?: string;
  /**
   * The session with the cloud account for this hook call: deadline and signal, locks, and the
   * account's lasting state (rate budget). The factory binds it to the account (`openAccount`).
   */
  readonly session: HookSession;
}

/**
 * Builds an issuer for one hook call. Throws (or rejects with) `IssuerError` when it cannot. A
 * cloud's factory in the registry answers a promise: it loads that cloud's code on first use.
 */
export type IssuerFactory = (context: IssuerContext) => RoutedIPIssuer | Promise<RoutedIPIssuer>;

/** An `IssuerFactory` whose code is loaded already (each cloud folder's `create…IssuerFactory` makes one). */
export type IssuerBuilder = (context: IssuerContext) => RoutedIPIssuer;
