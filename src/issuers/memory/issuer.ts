/**
 * The `memory` issuer: the RoutedIPIssuer contract served by a MemoryCloud account.
 *
 * Choices (PRODUCT.md leaves them to us):
 * - every node is accepted; its name is its machine id, with or without a providerID;
 * - `createRoutedIP` allocates an UNASSIGNED address tagged with the owner's UID (like AWS
 *   AllocateAddress + tags in one call); the core assigns it next. It is not deduplicated: a
 *   second create leaks a second address, which is exactly what leak tests must be able to see;
 * - `findRoutedIP` without `spec.address` trusts only the UID tag (`lastKnownAddress` is a hint
 *   it does not need); with `spec.address` it adopts that address, or throws `AddressNotFound`;
 * - a machine may hold several addresses (DigitalOcean's one-per-droplet rule is not modelled);
 * - every action completes at once, so `ActionResult` is always `{ done: true }`;
 * - firewall rules carry no ownership marks (`owned` undefined), like DigitalOcean.
 */
import { IssuerNotFoundError } from '../errors.js';
import type { FirewallRule, ObservedFirewall, ObservedRoutedIP, RoutedIPIssuer } from '../issuer.js';
import type { IssuerContext } from '../issuer.js';
import type { MemoryCloud } from './cloud.js';
import { WRITE_METHODS } from './calls.js';
import { mergeRules, OWNER_TAG, UID_TAG, type MemoryFirewall, type MemoryIP } from './state.js';

const DONE = { done: true } as const;

const observeIP = (ip: MemoryIP): ObservedRoutedIP => ({ address: ip.address, id: ip.id, ...(ip.holder ? { holder: ip.holder } : {}) });

const observeFirewall = (fw: MemoryFirewall): ObservedFirewall => ({ id: fw.id, name: fw.name, rules: mergeRules(fw.rules), nodes: [...fw.nodes].sort() });

const describeRules = (rules: readonly FirewallRule[]): string =>
  rules.map((r) => `${r.protocol}/${r.port} from ${[...r.sources].join(',')}`).join('; ');

/**
 * Builds the memory issuer of `context` (account `namespace/name` of `cloud`). The firewalls
 * listed in `spec.memory.firewalls` are created in the account if absent, without a logged call.
 */
export function createMemoryIssuer(cloud: MemoryCloud, context: IssuerContext): RoutedIPIssuer {
  // A ClusterRoutedIPIssuer has an account of its own, apart from any namespaced issuer's.
  const key = context.kind === 'ClusterRoutedIPIssuer' ? `cluster/${context.name}` : `${context.namespace}/${context.name}`;
  for (const name of context.spec.memory?.firewalls ?? []) cloud.account(key).ensureFirewall(name);
  const { session } = context;
  session.openAccount(`memory:${key}`, () => undefined);
  // Like the cloud issuers: nothing starts once the call is abandoned, no write after the deadline.
  const invoke: MemoryCloud['invoke'] = async (account, method, describe, operation) => {
    if (session.signal.aborted || (WRITE_METHODS.has(method) && session.expired)) throw session.deadlineError(method);
    return cloud.invoke(account, method, describe, operation);
  };

  return {
    provider: 'memory',

    nodeTarget: (node) => ({ node: node.metadata.name, id: node.metadata.name }),

    findRoutedIP: (query) =>
      invoke(key, 'findRoutedIP', () => query.address ? `address=${query.address}` : `uid=${query.owner.uid}`, (account) => {
        if (query.address === undefined) {
          const ip = account.ipByTag(UID_TAG, query.owner.uid);
          return { result: ip && observeIP(ip), changed: false };
        }
        const ip = account.ipByAddress(query.address);
        if (!ip) throw new IssuerNotFoundError(`address ${query.address} does not exist in account ${key}`, 'AddressNotFound');
        return { result: observeIP(ip), changed: false };
      }),

    createRoutedIP: (owner, node) =>
      invoke(key, 'createRoutedIP', () => `${owner.namespace}/${owner.name} node=${node.id}`, (account) => {
        const applied = account.allocate({ [UID_TAG]: owner.uid, [OWNER_TAG]: `${owner.namespace}/${owner.name}` });
        return { result: observeIP(applied.result), changed: applied.changed };
      }),

    assignRoutedIP: (ip, node) =>
      invoke(key, 'assignRoutedIP', () => `${ip.address} -> ${node.id}`, (account) => ({ ...account.setHolder(ip.id, node.id), result: DONE })),

    unassignRoutedIP: (ip) =>
      invoke(key, 'unassignRoutedIP', () => ip.address, (account) => {
        // Already released is already detached: the write is done.
        if (!account.listIPs().some((i) => i.id === ip.id)) return { result: DONE, changed: false };
        return { ...account.setHolder(ip.id, undefined), result: DONE };
      }),

    releaseRoutedIP: (ip) => invoke(key, 'releaseRoutedIP', () => ip.address, (account) => ({ ...account.release(ip.id), result: DONE })),

    findRoutedIPFirewall: (name) =>
      invoke(key, 'findRoutedIPFirewall', () => name, (account) => {
        const fw = account.firewallByName(name);
        return { result: fw && observeFirewall(fw), changed: false };
      }),

    addRoutedIPFirewallPort: (fw, rules) =>
      invoke(key, 'addRoutedIPFirewallPort', () => `${fw.name} ${describeRules(rules)}`, (account) => account.addRules(fw.id, rules)),

    deleteRoutedIPFirewallPort: (fw, rules) =>
      invoke(key, 'deleteRoutedIPFirewallPort', () => `${fw.name} ${describeRules(rules)}`, (account) => account.deleteRules(fw.id, rules)),

    addRoutedIPFirewallNode: (fw, node) =>
      invoke(key, 'addRoutedIPFirewallNode', () => `${fw.name} ${node.id}`, (account) => account.setNode(fw.id, node.id, true)),

    deleteRoutedIPFirewallNode: (fw, nodeId) =>
      invoke(key, 'deleteRoutedIPFirewallNode', () => `${fw.name} ${nodeId}`, (account) => account.setNode(fw.id, nodeId, false)),
  } satisfies RoutedIPIssuer;
}
