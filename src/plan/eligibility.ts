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
}

/**
 * The node's labels without the holder label this service writes: a selector on it would make
 * holding an IP change eligibility, and the label write would then move the IP (a sync loop).
 */
export function ownLabels(node: Node): Record<string, string> {
  const { [HOLDER_LABEL]: _mark, ...rest } = node.metadata.labels ?? {};
  return rest;
}

/** Judges one node; the first failed rule is reported. */
export function judgeNode(node: Node, ctx: EligibilityContext): JudgedNode {
  const name = node.metadata.name;
  const target = ctx.nodeTarget(node);
  const fail = (reason: string): JudgedNode => ({ name, ...(target ? { target } : {}), eligible: false, reason });
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return fail('not Ready');
  if (node.spec?.unschedulable === true) return fail('unschedulable');
  if (node.spec?.taints?.some((t) => t.effect === 'NoExecute')) return fail('NoExecute taint');
  if (!matchesSelector(ownLabels(node), ctx.nodeSelector)) return fail('does not match nodeSelector');
  if (!target) return fail('providerID does not parse for this issuer');
  const nodeRegion = node.metadata.labels?.[REGION_LABEL];
  if (ctx.region !== undefined && nodeRegion !== undefined && nodeRegion !== ctx.region) {
    return fail(`in region ${nodeRegion}, not ${ctx.region}`);
  }
  if (ctx.endpointNodes && !ctx.endpointNodes.has(name)) return fail('hosts no ready endpoint of the Service');
  return { name, target, eligible: true, reason: '' };
}

/** Judges every node, sorted by name so every later step iterates in a stable order. */
export function judgeNodes(nodes: readonly Node[], ctx: EligibilityContext): JudgedNode[] {
  return nodes.map((n) => judgeNode(n, ctx)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
