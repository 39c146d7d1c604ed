/**
 * Node eligibility (PRODUCT.md "Node eligibility"): Ready, schedulable, no NoExecute taint,
 * matches `spec.nodeSelector`, providerID parses for the issuer, in the issuer's region when the
 * node says its region, and — with a `serviceRef` — hosts a ready, non-terminating endpoint.
 */
import type { LabelSelector, Node } from '../schemas/kubernetes.js';
import type { NodeTarget } from '../issuers/issuer.js';
import { matchesSelector } from './label-selector.js';
import { HOLDER_LABEL } from './holder.js';

/** Label a node uses to say its region. */
export const REGION_LABEL = 'topology.kubernetes.io/region';

/** What eligibility is judged against. */
export interface EligibilityContext {
  readonly nodeSelector?: LabelSelector;
  /** The issuer's region; undefined for providers without regions (memory). */
  readonly region?: string;
  /** Node names hosting a ready endpoint of the Service; undefined when there is no serviceRef. */
  readonly endpointNodes?: ReadonlySet<string>;
  /** The issuer's providerID parser. */
  readonly nodeTarget: (node: Node) => NodeTarget | undefined;
}

/** A node judged: its target when it parses, and why it is not eligible (empty when it is). */
export interface JudgedNode {
  readonly name: string;
  readonly target?: NodeTarget;
  readonly eligible: boolean;
  /** First failed rule, for status details; '' when eligible. */
  readonly reason: string;
  /**
   * Every failed rule is one a failover grace waits out (not Ready, a NoExecute taint, no ready
   * endpoint: what flaps). A cordon, a nodeSelector or a providerID that no longer fits is a
   * decision or a fact, never waited out. Absent when eligible.
   */
  readonly transient?: boolean;
  /**
   * When the API says the failures began, where it timestamps them (Ready's
   * `lastTransitionTime`, a NoExecute taint's `timeAdded`): the earliest of those, RFC 3339.
   */
  readonly failingSince?: string;
}

/**
 * The node's labels without the holder label this service writes: a selector on it would make
 * holding an IP change eligibility, and the label write would then move the IP (a sync loop).
 */
export function ownLabels(node: Node): Record<string, string> {
  const { [HOLDER_LABEL]: _mark, ...rest } = node.metadata.labels ?? {};
  return rest;
}

/** Failures a failover grace waits out: they flap. */
const TRANSIENT = new Set(['not Ready', 'NoExecute taint', 'hosts no ready endpoint of the Service']);

/**
 * What one node failed so far: the first rule, whether every one is transient, and the earliest
 * time a failure is stamped with. Mutable and kept in locals of `judgeNode`: a sync judges every
 * Node it is sent (5,000 and more), and arrays of reasons and times per Node were most of what
 * eligibility cost.
 */
interface Failures {
  reason: string;
  transient: boolean;
  since?: string;
  sinceAt: number;
}

/** Records the failed rule `why`. */
function fail(f: Failures, why: string): void {
  if (f.reason === '') f.reason = why;
  if (!TRANSIENT.has(why)) f.transient = false;
}

/** Records that a failure began at `text` (RFC 3339), when it parses and is the earliest so far. */
function stamp(f: Failures, text: string | undefined): void {
  if (text === undefined) return;
  const at = Date.parse(text);
  if (Number.isFinite(at) && (f.since === undefined || at < f.sinceAt)) {
    f.since = text;
    f.sinceAt = at;
  }
}

/** Judges one node; the first failed rule is reported, and whether every failed rule is transient. */
export function judgeNode(node: Node, ctx: EligibilityContext): JudgedNode {
  const name = node.metadata.name;
  const target = ctx.nodeTarget(node);
  const f: Failures = { reason: '', transient: true, sinceAt: 0 };
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    fail(f, 'not Ready');
    stamp(f, ready?.lastTransitionTime);
  }
  if (node.spec?.unschedulable === true) fail(f, 'unschedulable');
  const taints = node.spec?.taints;
  if (taints?.some((t) => t.effect === 'NoExecute')) {
    fail(f, 'NoExecute taint');
    for (const t of taints) if (t.effect === 'NoExecute') stamp(f, t.timeAdded);
  }
  // Without the holder label (see ownLabels), and without copying every node's labels to drop it.
  if (!matchesSelector(node.metadata.labels, ctx.nodeSelector, HOLDER_LABEL)) fail(f, 'does not match nodeSelector');
  if (!target) fail(f, 'providerID does not parse for this issuer');
  const nodeRegion = node.metadata.labels?.[REGION_LABEL];
  if (ctx.region !== undefined && nodeRegion !== undefined && nodeRegion !== ctx.region) fail(f, `in region ${nodeRegion}, not ${ctx.region}`);
  if (ctx.endpointNodes && !ctx.endpointNodes.has(name)) fail(f, 'hosts no ready endpoint of the Service');
  if (f.reason === '' && target) return { name, target, eligible: true, reason: '' };
  return {
    name,
    ...(target ? { target } : {}),
    eligible: false,
    reason: f.reason,
    transient: f.transient,
    ...(f.since !== undefined ? { failingSince: f.since } : {}),
  };
}

const byName = (a: JudgedNode, b: JudgedNode): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Judges every node, sorted by name so every later step iterates in a stable order. Metacontroller
 * sends them in that order already (Go writes a map's keys sorted, and a Node's key is its name):
 * then one pass checks it and nothing is sorted.
 */
export function judgeNodes(nodes: readonly Node[], ctx: EligibilityContext): JudgedNode[] {
  const judged = nodes.map((n) => judgeNode(n, ctx));
  for (let i = 1; i < judged.length; i++) if (byName(judged[i - 1]!, judged[i]!) > 0) return judged.sort(byName);
  return judged;
}
