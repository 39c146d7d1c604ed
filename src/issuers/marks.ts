/**
 * The ownership mark the operator writes in the description of every firewall rule it adds (AWS
 * security-group ranges, Hetzner Firewall rules): the only evidence, besides a RoutedIP's own
 * status record, that a rule is ours (PRODUCT.md invariant 9).
 *
 *   routedip:<namespace>/<name>             no CLUSTER_NAME (and every version before cluster marks)
 *   routedip:<namespace>/<name>@<cluster>   CLUSTER_NAME set
 *
 * Both clouds cap a description at 255 characters (AWS also limits it to letters, digits, spaces
 * and `._-:/()#,@[]+=&;{}!$*`; every character here is among them). A namespace is at most 63
 * characters and a cluster name 63, but a RoutedIP name may have 253: when the mark would exceed
 * 255, the name is replaced by `#` and 32 hex digits of its SHA-256, which still names exactly
 * one RoutedIP of the namespace (`markedOwner` gives the same form for a RoutedIP the sweep knows).
 *
 * Who may change what: a rule carrying this cluster's mark or a mark without a cluster part (made
 * before cluster marks, or by an operator without CLUSTER_NAME) may be removed by the RoutedIP
 * that owns it, or by one that took it over; a rule carrying ANOTHER cluster's mark is never
 * touched by anything, whoever's status claims it. A RoutedIP owns both forms of its own mark, so
 * upgrading to a CLUSTER_NAME neither orphans nor duplicates a rule; an old-form rule is not
 * rewritten (it might be another cluster's RoutedIP of the same namespace and name) and is removed
 * when no longer needed, as before.
 */
import { createHash } from 'node:crypto';

const PREFIX = 'routedip:';
/** The description limit of both clouds (AWS security-group rule, Hetzner Firewall rule). */
export const MAX_MARK_LENGTH = 255;

/** Who a rule's mark names. */
export interface RuleOwnerRef {
  readonly namespace: string;
  readonly name: string;
}

/** A mark read back from a rule's description. */
export interface ParsedMark {
  readonly namespace: string;
  /** `namespace/name` as marked: the name itself, or `#<digest>` for a long one. */
  readonly owner: string;
  /** The cluster part; absent on a mark without one. */
  readonly cluster?: string;
}

const digest = (name: string): string => `#${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;

const compose = (namespace: string, name: string, cluster: string | undefined): string =>
  `${PREFIX}${namespace}/${name}${cluster !== undefined ? `@${cluster}` : ''}`;

/** The description marking a rule as `owner`'s, with this cluster's part when `cluster` is set. */
export function ruleMark(owner: RuleOwnerRef, cluster?: string): string {
  const full = compose(owner.namespace, owner.name, cluster);
  return full.length <= MAX_MARK_LENGTH ? full : compose(owner.namespace, digest(owner.name), cluster);
}

/** `namespace/name` of `owner` as its mark for `cluster` writes it (the name may be a digest). */
export function markedOwner(owner: RuleOwnerRef, cluster?: string): string {
  const body = ruleMark(owner, cluster).slice(PREFIX.length);
  return cluster === undefined ? body : body.slice(0, -(cluster.length + 1));
}

/** True when a description is some RoutedIP's mark, of any cluster or none. */
export const isMark = (description: string | null | undefined): boolean => description?.startsWith(PREFIX) === true;

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAME = /^(#[0-9a-f]{32}|[a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/;
const CLUSTER = /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/;

/** The namespace, owner and cluster a mark names; `undefined` for anything else. */
export function parseMark(description: string | null | undefined): ParsedMark | undefined {
  if (!isMark(description)) return undefined;
  const body = (description as string).slice(PREFIX.length);
  const slash = body.indexOf('/');
  const at = body.lastIndexOf('@');
  const namespace = body.slice(0, slash);
  const name = at > slash ? body.slice(slash + 1, at) : body.slice(slash + 1);
  const cluster = at > slash ? body.slice(at + 1) : undefined;
  if (slash <= 0 || !NAMESPACE.test(namespace) || !NAME.test(name) || (cluster !== undefined && !CLUSTER.test(cluster))) return undefined;
  return { namespace, owner: `${namespace}/${name}`, ...(cluster !== undefined ? { cluster } : {}) };
}

/** True when `description` is `owner`'s mark: the form without a cluster, or this cluster's. */
export function ownsMark(description: string | null | undefined, owner: RuleOwnerRef, cluster?: string): boolean {
  if (!isMark(description)) return false;
  return description === ruleMark(owner) || (cluster !== undefined && description === ruleMark(owner, cluster));
}

/**
 * True when a write of this cluster may remove (a source of) a rule described so: it carries a
 * mark, and that mark names this cluster or no cluster. Another cluster's mark — or any cluster
 * mark when this operator has no CLUSTER_NAME — is never ours to change.
 */
export function mayChange(description: string | null | undefined, cluster?: string): boolean {
  if (!isMark(description)) return false;
  // No name, namespace or hex digest holds an `@`: whatever follows the last one is a cluster part.
  const at = (description as string).lastIndexOf('@');
  return at < 0 || (cluster !== undefined && (description as string).slice(at + 1) === cluster);
}

/** True when a rule described so carries another cluster's mark (never touched, never ours). */
export const isOtherCluster = (description: string | null | undefined, cluster?: string): boolean => isMark(description) && !mayChange(description, cluster);
