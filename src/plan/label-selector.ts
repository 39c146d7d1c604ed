/**
 * `metav1.LabelSelector` matching, as the API server does it: every `matchLabels` pair and
 * every `matchExpressions` requirement must hold; an empty or absent selector matches everything.
 */
import type { LabelSelector } from '../schemas/kubernetes.js';

/** A requirement with its values as a set: a selector is matched against thousands of nodes. */
interface Requirement {
  readonly key: string;
  readonly operator: string;
  readonly values: ReadonlySet<string>;
}

const compiled = new WeakMap<LabelSelector, { labels: [string, string][]; requirements: Requirement[] }>();

/** The selector's pairs and value sets, built once per selector object. */
function compile(selector: LabelSelector) {
  let c = compiled.get(selector);
  if (!c) {
    c = {
      labels: Object.entries(selector.matchLabels ?? {}),
      requirements: (selector.matchExpressions ?? []).map((r) => ({ key: r.key, operator: r.operator, values: new Set(r.values ?? []) })),
    };
    compiled.set(selector, c);
  }
  return c;
}

/**
 * True when `labels` satisfy `selector`. Linear in the selector's size, whatever its value lists.
 * A label named `ignoredKey` counts as absent: callers match a node without the label this
 * service writes on it, without copying the labels of every node to drop it.
 */
export function matchesSelector(labels: Readonly<Record<string, string>> | undefined, selector: LabelSelector | undefined, ignoredKey?: string): boolean {
  if (!selector) return true;
  const have = labels ?? {};
  const has = (key: string) => key !== ignoredKey && Object.hasOwn(have, key);
  const { labels: pairs, requirements } = compile(selector);
  for (const [key, value] of pairs) {
    if (!has(key) || have[key] !== value) return false;
  }
  for (const req of requirements) {
    const present = has(req.key);
    const values = req.values;
    switch (req.operator) {
      case 'In':
        if (!present || !values.has(have[req.key] as string)) return false;
        break;
      case 'NotIn':
        if (present && values.has(have[req.key] as string)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
    }
  }
  return true;
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const validKey = (key: string) => {
  const slash = key.indexOf('/');
  if (slash < 0) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
};
const validValue = (value: string) => value === '' || NAME.test(value);

/** Splits on commas outside parentheses (`a in (x,y),b` → `a in (x,y)`, `b`). */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/**
 * Parses a label selector string as `kubectl -l` takes it (`a=b,c!=d,e in (x,y),f notin (z),g,!h`)
 * into a `metav1.LabelSelector`: equalities become `matchLabels`, the rest `matchExpressions`.
 * The set-based `>`/`<` operators have no LabelSelector form and are rejected. Pure.
 */
export function parseSelector(text: string): { selector: LabelSelector } | { error: string } {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
  if (text.trim() === '') return { selector: {} };
  for (const part of splitRequirements(text)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
      const [, key = '', op, value = ''] = m;
      if (!validKey(key) || !validValue(value)) return { error: `invalid requirement ${JSON.stringify(part)}` };
      if (op === '!=') matchExpressions.push({ key, operator: 'NotIn', values: [value] });
      else if (Object.hasOwn(matchLabels, key) && matchLabels[key] !== value) return { error: `label ${key} required to equal two values` };
      else matchLabels[key] = value;
    } else if ((m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      const [, key = '', op, list = ''] = m;
      const values = [...new Set(list.split(',').map((v) => v.trim()))].sort();
      if (!validKey(key) || values.some((v) => !validValue(v)) || (values.length === 1 && values[0] === '')) return { error: `invalid requirement ${JSON.stringify(part)}` };
      matchExpressions.push({ key, operator: op === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = /^(!?)\s*(\S+)$/.exec(part)) && validKey(m[2] ?? '')) {
      matchExpressions.push({ key: m[2] ?? '', operator: m[1] === '!' ? 'DoesNotExist' : 'Exists' });
    } else {
      return { error: `invalid requirement ${JSON.stringify(part)}` };
    }
  }
  return {
    selector: {
      ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
      ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
    },
  };
}
