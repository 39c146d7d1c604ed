/**
 * Rules of a Hetzner Cloud Firewall. `set_rules` replaces every rule at once, so each change is a
 * read-modify-write: under the Firewall's lock (the reconcile layer holds the session lock
 * `firewall/<id>` of the account around every AddRoutedIPFirewallPort and
 * DeleteRoutedIPFirewallPort step, src/reconcile/execute.ts), the Firewall is read again, only rules carrying
 * a RoutedIP mark of this cluster or of none (`description`, `../marks.ts`) are changed or added — rules are added under this RoutedIP's
 * mark; sources are removed from this RoutedIP's rules or from a sibling's it took over as the last
 * one needing them (the plan decides which pairs) — every other rule is sent back exactly as
 * read, and nothing is sent when nothing changes. Two RoutedIPs sharing a Firewall
 * therefore never drop each other's rules, however their syncs interleave in this process.
 */
import { IssuerQuotaError } from '../errors.js';
import type { FirewallRule, RoutedIPOwner, RuleRevoke } from '../issuer.js';
import type { HetznerClient } from './client.js';
import { mayChange, ruleMark } from '../marks.js';
import { portOf } from './mapping.js';
import type { HAction, HRule } from './schemas.js';

/** The Firewall rule limit (`set_rules_request.rules.maxItems`). */
const MAX_RULES = 50;

const samePort = (rule: HRule, r: FirewallRule): boolean => {
  const p = portOf(rule);
  return p !== undefined && p.protocol === r.protocol && p.port === r.port;
};

/** What a rule change needs. */
export interface RuleWrite {
  readonly client: HetznerClient;
  readonly firewallId: number;
  readonly owner: RoutedIPOwner;
  /** This cluster's identity: its mark on rules added, and the only cluster mark ever changed. */
  readonly cluster?: string;
}

/** Re-reads the rules, lets `change` compute the next list, writes it when it differs. */
async function rewrite(w: Pick<RuleWrite, 'client' | 'firewallId'>, change: (rules: readonly HRule[]) => HRule[]): Promise<HAction[]> {
  const fresh = await w.client.getFirewall(w.firewallId);
  if (!fresh) return [];
  const next = change(fresh.rules);
  if (JSON.stringify(next) === JSON.stringify(fresh.rules)) return [];
  if (next.length > MAX_RULES) {
    throw new IssuerQuotaError(`firewall ${fresh.name} would need ${next.length} rules; Hetzner allows ${MAX_RULES}`, 'FirewallRuleLimit');
  }
  return w.client.setRules(w.firewallId, next);
}

/** AddRoutedIPFirewallPort: adds the sources not allowed yet on each port, in rules marked ours. */
export function addRules(w: RuleWrite, rules: readonly FirewallRule[]): Promise<HAction[]> {
  const mark = ruleMark(w.owner, w.cluster);
  return rewrite(w, (current) => {
    const next = [...current];
    for (const r of rules) {
      const allowed = new Set(next.filter((rule) => samePort(rule, r)).flatMap((rule) => rule.source_ips ?? []));
      const missing = r.sources.filter((s) => !allowed.has(s));
      if (missing.length === 0) continue;
      const i = next.findIndex((rule) => rule.description === mark && samePort(rule, r));
      const ours = next[i];
      if (ours) next[i] = { ...ours, source_ips: [...(ours.source_ips ?? []), ...missing] };
      else next.push({ description: mark, direction: 'in', port: String(r.port), protocol: r.protocol, source_ips: missing, destination_ips: [] });
    }
    return next;
  });
}

/**
 * DeleteRoutedIPFirewallPort: removes the sources from rules carrying a RoutedIP mark of this
 * cluster or of none (ours, or a sibling's whose pair this RoutedIP took over as the last one
 * needing it); an emptied rule goes. A rule without a mark (a person's, another tool's) or with
 * another cluster's mark is never changed.
 */
export function deleteRules(w: RuleWrite, rules: readonly FirewallRule[]): Promise<HAction[]> {
  return rewrite(w, (current) =>
    current.flatMap((rule) => {
      const gone = new Set(rules.filter((r) => mayChange(rule.description, w.cluster) && samePort(rule, r)).flatMap((r) => r.sources));
      if (gone.size === 0) return [rule];
      const left = (rule.source_ips ?? []).filter((s) => !gone.has(s));
      return left.length === 0 ? [] : [{ ...rule, source_ips: left }];
    }),
  );
}

/**
 * Orphan sweep: removes `orphan.source` from the inbound rules on its port whose description is
 * exactly `orphan.mark` (this cluster's: the caller checked), re-read under the Firewall's lock
 * like every rule change; every other rule is sent back as read. A pair no longer under that
 * mark is gone already: nothing is sent. True when this call removed the pair.
 */
export async function revokeMarked(w: Pick<RuleWrite, 'client' | 'firewallId'>, orphan: RuleRevoke): Promise<boolean> {
  const port = { protocol: orphan.protocol, port: orphan.port, sources: [orphan.source] };
  let found = false;
  await rewrite(w, (current) =>
    current.flatMap((rule) => {
      if (rule.description !== orphan.mark || !samePort(rule, port)) return [rule];
      const left = (rule.source_ips ?? []).filter((s) => s !== orphan.source);
      if (left.length < (rule.source_ips ?? []).length) found = true;
      return left.length === 0 ? [] : [{ ...rule, source_ips: left }];
    }),
  );
  return found;
}
