/**
 * What a Node shows about the routed IPs it holds (the Node DecoratorController).
 *
 * The marks are a pure function of the node's name and the RoutedIPs' observed holders
 * (`status.node`) and addresses — nothing else of a RoutedIP's status (conditions, steps,
 * timestamps) and nothing of the Node itself. So the label changes exactly when this node starts
 * or stops holding, the annotation exactly when what it holds changes, and a steady state answers
 * the same updates every time: Metacontroller compares them with the Node and writes nothing.
 * The election never reads these marks (see `eligibility.ts`), so writing them cannot move an IP.
 */
import type { StringUpdates } from '../schemas/decorator.js';

/** Label on a node that holds at least one routed IP. */
export const HOLDER_LABEL = 'routedip.io/holder';
/** Annotation listing what a node holds: `namespace/name=address`, comma-separated, sorted. */
export const HOLDS_ANNOTATION = 'routedip.io/holds';

/** The fields of a RoutedIP the marks depend on. */
export interface HeldRoutedIP {
  readonly namespace: string;
  readonly name: string;
  /** `status.node`: the node the IP points at, as last observed in the cloud. */
  readonly node?: string;
  /** `status.address`. */
  readonly address?: string;
}

/** `namespace/name=address` for every RoutedIP whose observed holder is `node`, sorted. */
export function heldBy(node: string, routedIPs: readonly HeldRoutedIP[]): string[] {
  return routedIPs
    .filter((r) => r.node === node && r.address !== undefined)
    .map((r) => `${r.namespace}/${r.name}=${r.address}`)
    .sort();
}

/** The label and annotation updates for `node`: set while it holds something, deleted otherwise. */
export function holderMarks(node: string, routedIPs: readonly HeldRoutedIP[]): { labels: StringUpdates; annotations: StringUpdates } {
  const held = heldBy(node, routedIPs);
  return held.length > 0
    ? { labels: { [HOLDER_LABEL]: 'true' }, annotations: { [HOLDS_ANNOTATION]: held.join(',') } }
    : { labels: { [HOLDER_LABEL]: null }, annotations: { [HOLDS_ANNOTATION]: null } };
}
