/**
 * The AWS issuer: the RoutedIPIssuer contract over Elastic IPs (VPC) and one security group.
 * The steps themselves live in `addresses.ts` and `firewall.ts`; this file only wires them.
 */
import type { RoutedIPIssuer } from '../issuer.js';
import { assignRoutedIP, createRoutedIP, findRoutedIP, listMarkedAddresses, occupiedMachines, releaseOrphan, releaseRoutedIP, unassignRoutedIP } from './addresses.js';
import type { AwsContext } from './context.js';
import { addNode, addPorts, deleteNode, deletePorts, findFirewall, listMarkedRules, revokeOrphanRule } from './firewall.js';
import { awsNodeTarget } from './provider-id.js';

/** Builds the issuer over `ctx` (its client, region, budget and logger). */
export function createAwsIssuer(ctx: AwsContext): RoutedIPIssuer {
  return {
    provider: 'aws',
    nodeTarget: (node) => awsNodeTarget(node, ctx.region),
    findRoutedIP: (query) => findRoutedIP(ctx, query),
    occupiedMachines: (candidates, ip) => occupiedMachines(ctx, candidates, ip),
    createRoutedIP: (owner) => createRoutedIP(ctx, owner),
    assignRoutedIP: (ip, node) => assignRoutedIP(ctx, ip, node),
    unassignRoutedIP: (ip) => unassignRoutedIP(ctx, ip),
    releaseRoutedIP: (ip) => releaseRoutedIP(ctx, ip),
    listMarkedAddresses: () => listMarkedAddresses(ctx),
    releaseOrphan: (orphan) => releaseOrphan(ctx, orphan),
    listMarkedRules: (firewall) => listMarkedRules(ctx, firewall),
    revokeOrphanRule: (orphan) => revokeOrphanRule(ctx, orphan),
    findRoutedIPFirewall: (name, owner) => findFirewall(ctx, name, owner),
    addRoutedIPFirewallPort: (fw, rules, owner) => addPorts(ctx, fw, rules, owner),
    deleteRoutedIPFirewallPort: (fw, rules, owner) => deletePorts(ctx, fw, rules, owner),
    addRoutedIPFirewallNode: (fw, node) => addNode(ctx, fw, node),
    deleteRoutedIPFirewallNode: (fw, nodeId) => deleteNode(ctx, fw, nodeId),
  } satisfies RoutedIPIssuer;
}
