/**
 * The DigitalOcean API operations the fake implements: `operationId` → method and path, as in
 * DigitalOcean's OpenAPI description. The fake routes by this table, so it works in a checkout
 * without the spec; when the spec is present a test checks every entry against it.
 */

/** `operationId` → [method, path template]. */
export const OPERATIONS: Record<string, readonly [method: string, template: string]> = {
  reservedIPs_list: ['GET', '/v2/reserved_ips'],
  reservedIPs_get: ['GET', '/v2/reserved_ips/{reserved_ip}'],
  reservedIPs_create: ['POST', '/v2/reserved_ips'],
  reservedIPs_delete: ['DELETE', '/v2/reserved_ips/{reserved_ip}'],
  reservedIPsActions_post: ['POST', '/v2/reserved_ips/{reserved_ip}/actions'],
  reservedIPsActions_list: ['GET', '/v2/reserved_ips/{reserved_ip}/actions'],
  reservedIPsActions_get: ['GET', '/v2/reserved_ips/{reserved_ip}/actions/{action_id}'],
  actions_get: ['GET', '/v2/actions/{action_id}'],
  droplets_get: ['GET', '/v2/droplets/{droplet_id}'],
  firewalls_list: ['GET', '/v2/firewalls'],
  firewalls_get: ['GET', '/v2/firewalls/{firewall_id}'],
  firewalls_assign_droplets: ['POST', '/v2/firewalls/{firewall_id}/droplets'],
  firewalls_delete_droplets: ['DELETE', '/v2/firewalls/{firewall_id}/droplets'],
  firewalls_add_rules: ['POST', '/v2/firewalls/{firewall_id}/rules'],
  firewalls_delete_rules: ['DELETE', '/v2/firewalls/{firewall_id}/rules'],
  firewalls_add_tags: ['POST', '/v2/firewalls/{firewall_id}/tags'],
  firewalls_delete_tags: ['DELETE', '/v2/firewalls/{firewall_id}/tags'],
  droplets_list: ['GET', '/v2/droplets'],
  tags_create: ['POST', '/v2/tags'],
  tags_assign_resources: ['POST', '/v2/tags/{tag_id}/resources'],
  tags_unassign_resources: ['DELETE', '/v2/tags/{tag_id}/resources'],
};

/**
 * Operations the shared bundle does not hold (it is filtered to the Reserved IPs, Floating IPs,
 * Firewalls, Droplets and Actions tags of the spec): routed by the fake as upstream
 * `specification/resources/tags/*` describes them, but not validated.
 */
export const OUTSIDE_BUNDLE: ReadonlySet<string> = new Set(['tags_create', 'tags_assign_resources', 'tags_unassign_resources']);

/** A request matched to an operation. */
export interface MatchedOperation {
  readonly operationId: string;
  readonly template: string;
  readonly params: Record<string, string>;
}

const compiled = Object.entries(OPERATIONS).map(([operationId, [method, template]]) => {
  const names: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { operationId, method, template, names, pattern: new RegExp(`^${source}$`) };
});

/** The implemented operation for `method pathname`, or undefined. */
export function matchOperation(method: string, pathname: string): MatchedOperation | undefined {
  for (const o of compiled) {
    if (o.method !== method) continue;
    const m = o.pattern.exec(pathname);
    if (!m) continue;
    return { operationId: o.operationId, template: o.template, params: Object.fromEntries(o.names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')])) };
  }
  return undefined;
}
