/** Hetzner label selectors, as the API evaluates them for `label_selector` filters and Firewall resources. */

/** Does `labels` match a Hetzner label selector (`k=v`, `k==v`, `k!=v`, `k`, `!k`, comma = and)? */
export function matchesSelector(labels: Readonly<Record<string, string>>, selector: string): boolean {
  return selector.split(',').map((s) => s.trim()).filter((s) => s !== '').every((term) => {
    const ne = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term);
    if (ne) return labels[ne[1]!] !== ne[2];
    const eq = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term);
    if (eq) return labels[eq[1]!] === eq[2];
    if (term.startsWith('!')) return !(term.slice(1) in labels);
    return term in labels;
  });
}
