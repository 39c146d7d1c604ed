/**
 * `spec.nodePreference`: node affinity's preferred terms, scored as the scheduler scores them. A
 * node's score is the sum of the weights of the terms it matches; a term matches when every one
 * of its `matchExpressions` (on labels) and `matchFields` (on `metadata.name`) holds; a term with
 * no requirement counts for nothing. Labels are read without the holder label this service
 * writes (`ownLabels`): preferring `routedip.io/holder` would let a label write steer the IP.
 * A requirement the API server would have refused (Gt with no integer) matches nothing. Pure.
 */
import type { LabelSelector, Node } from '../schemas/kubernetes.js';
import type { NodeFieldRequirement, NodeSelectorRequirement, PreferredNodeTerm } from '../schemas/routed-ip.js';
import { ownLabels } from './eligibility.js';
import { matchesSelector } from './label-selector.js';

/** A Go `int64` as `strconv.ParseInt(s, 10, 64)` reads it; undefined when it does not parse. */
function int64(text: string | undefined): bigint | undefined {
  if (text === undefined || !/^[-+]?[0-9]+$/.test(text)) return undefined;
  const n = BigInt(text);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/** One term split into what `matchesSelector` evaluates and the Gt/Lt comparisons it cannot. */
interface CompiledTerm {
  readonly weight: number;
  readonly empty: boolean;
  readonly labels: LabelSelector;
  readonly compare: readonly { readonly key: string; readonly gt: boolean; readonly value: bigint | undefined }[];
  readonly fields: readonly NodeFieldRequirement[];
}

const compiled = new WeakMap<PreferredNodeTerm, CompiledTerm>();

function compile(term: PreferredNodeTerm): CompiledTerm {
  let c = compiled.get(term);
  if (!c) {
    const expressions: readonly NodeSelectorRequirement[] = term.preference.matchExpressions ?? [];
    const fields = term.preference.matchFields ?? [];
    const set = expressions.filter((r) => r.operator !== 'Gt' && r.operator !== 'Lt');
    c = {
      weight: term.weight,
      empty: expressions.length === 0 && fields.length === 0,
      labels: { matchExpressions: set.map((r) => ({ key: r.key, operator: r.operator as 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', ...(r.values ? { values: r.values } : {}) })) },
      compare: expressions.filter((r) => r.operator === 'Gt' || r.operator === 'Lt').map((r) => ({ key: r.key, gt: r.operator === 'Gt', value: r.values?.length === 1 ? int64(r.values[0]) : undefined })),
      fields,
    };
    compiled.set(term, c);
  }
  return c;
}

/** True when `node` satisfies every requirement of `term` (false for a term without any). */
export function matchesTerm(node: Node, term: PreferredNodeTerm): boolean {
  const c = compile(term);
  if (c.empty) return false;
  const labels = ownLabels(node);
  if (!matchesSelector(labels, c.labels)) return false;
  for (const r of c.compare) {
    const have = Object.hasOwn(labels, r.key) ? int64(labels[r.key]) : undefined;
    if (have === undefined || r.value === undefined) return false;
    if (r.gt ? !(have > r.value) : !(have < r.value)) return false;
  }
  for (const f of c.fields) {
    const listed = f.values.includes(node.metadata.name);
    if (f.operator === 'In' ? !listed : listed) return false;
  }
  return true;
}

/** Each node's score under `terms`, by node name; empty when there are no terms. */
export function preferenceScores(nodes: readonly Node[], terms: readonly PreferredNodeTerm[] | undefined): Map<string, number> {
  const scores = new Map<string, number>();
  if (!terms || terms.length === 0) return scores;
  for (const node of nodes) {
    let score = 0;
    for (const term of terms) if (matchesTerm(node, term)) score += term.weight;
    scores.set(node.metadata.name, score);
  }
  return scores;
}
