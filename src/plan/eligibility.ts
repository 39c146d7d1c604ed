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

/** Judges one node; the first failed rule is reported, and whether every failed rule is transient. */
export function judgeNode(node: Node, ctx: EligibilityContext): JudgedNode {
  const name = node.metadata.name;
  const target = ctx.nodeTarget(node);
  const failed: string[] = [];
  const times: string[] = [];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    failed.push('not Ready');
    if (ready?.lastTransitionTime !== undefined) times.push(ready.lastTransitionTime);
  }
  if (node.spec?.unschedulable === true) failed.push('unschedulable');
  const noExecute = node.spec?.taints?.filter((t) => t.effect === 'NoExecute') ?? [];
  if (noExecute.length > 0) {
    failed.push('NoExecute taint');
    for (const t of noExecute) if (t.timeAdded !== undefined) times.push(t.timeAdded);
  }
  // Without the holder label (see ownLabels), and without copying every node's labels to drop it.
  if (!matchesSelector(node.metadata.labels, ctx.nodeSelector, HOLDER_LABEL)) failed.push('does not match nodeSelector');
  if (!target) failed.push('providerID does not parse for this issuer');
  const nodeRegion = node.metadata.labels?.[REGION_LABEL];
  if (ctx.region !== undefined && nodeRegion !== undefined && nodeRegion !== ctx.region) failed.push(`in region ${nodeRegion}, not ${ctx.region}`);
  if (ctx.endpointNodes && !ctx.endpointNodes.has(name)) failed.push('hosts no ready endpoint of the Service');
  if (failed.length === 0 && target) return { name, target, eligible: true, reason: '' };
  const since = earliest(times);
  return {
    name,
    ...(target ? { target } : {}),
    eligible: false,
    reason: failed[0] as string,
    transient: failed.every((f) => TRANSIENT.has(f)),
    ...(since !== undefined ? { failingSince: since } : {}),
  };
}

/** The earliest of RFC 3339 times that parse; undefined when none does. */
function earliest(times: readonly string[]): string | undefined {
  let best: { text: string; at: number } | undefined;
  for (const text of times) {
    const at = Date.parse(text);
    if (Number.isFinite(at) && (best === undefined || at < best.at)) best = { text, at };
  }
  return best?.text;
}

/** Judges every node, sorted by name so every later step iterates in a stable order. */
export function judgeNodes(nodes: readonly Node[], ctx: EligibilityContext): JudgedNode[] {
  return nodes.map((n) => judgeNode(n, ctx)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
