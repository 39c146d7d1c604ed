/**
 * `metav1.LabelSelector` matching, as the API server does it: every `matchLabels` pair and
 * every `matchExpressions` requirement must hold; an empty or absent selector matches everything.
 */
import type { LabelSelector } from '../schemas/kubernetes.js';

/** True when `labels` satisfy `selector`. */
export function matchesSelector(labels: Readonly<Record<string, string>> | undefined, selector: LabelSelector | undefined): boolean {
  if (!selector) return true;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(have, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!present || !values.includes(have[req.key] as string)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(have[req.key] as string)) return false;
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
