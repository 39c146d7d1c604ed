/**
 * The read-only half of a call: judge nodes, find the IP, find the firewall. Shared by sync and
 * finalize so both see the cloud the same way.
 */
import { IssuerError, toIssuerError } from '../issuers/errors.js';
import type { AddressInventory, FirewallRule, NodeTarget, ObservedFirewall, ObservedRoutedIP, RoutedIPIssuer, SiblingClaim } from '../issuers/issuer.js';
import { sourceKey } from '../plan/firewall.js';
import { judgeNodes, type JudgedNode } from '../plan/eligibility.js';
import { portKey, endpointNodes } from '../plan/ports.js';
import type { IssuerSettings, SyncContext } from './context.js';
import type { ExecutionInput } from './execute.js';
import type { RunDeps } from './outcome.js';

/** What the reads found; `error` set when a read failed (at `failedStep`). */
export interface Observation {
  readonly nodes: readonly JudgedNode[];
  readonly ip?: ObservedRoutedIP;
  readonly firewall?: ObservedFirewall;
  /** The region's addresses and holders (issuers that cannot mark addresses). */
  readonly inventory?: AddressInventory;
  /** Names of nodes whose machine holds an address other than ours (one per machine clouds). */
  readonly occupied?: ReadonlySet<string>;
  readonly error?: IssuerError;
  readonly failedStep?: 'FindRoutedIP' | 'FindRoutedIPFirewall';
}

/** Judges the related nodes for this issuer. */
export function judge(ctx: SyncContext, settings: IssuerSettings, issuer: RoutedIPIssuer): JudgedNode[] {
  const spec = ctx.parent.spec;
  return judgeNodes(ctx.nodes, {
    ...(spec?.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
    ...(settings.region !== undefined ? { region: settings.region } : {}),
    ...(spec?.serviceRef ? { endpointNodes: ctx.service ? endpointNodes(ctx.slices) : new Set<string>() } : {}),
    nodeTarget: (n) => issuer.nodeTarget(n),
  });
}

/**
 * What RoutedIPs sharing `firewallId` need (per port and source; a record without sources needs
 * the whole port) and what they recorded as added, plus the nodes they hold or target.
 */
export function siblingNeeds(ctx: SyncContext, firewallId: string | undefined) {
  const siblingPorts = new Set<string>();
  const siblingNodes = new Set<string>();
  const siblingAdded: FirewallRule[] = [];
  const siblingAddedNodes = new Set<string>();
  const taken = new Set<string>();
  for (const s of ctx.siblings) {
    if (s.node !== undefined) taken.add(s.node);
    if (s.electedNode !== undefined) taken.add(s.electedNode);
    if (s.createIntent !== undefined) taken.add(s.createIntent.node);
    if (firewallId === undefined || s.firewall?.id !== firewallId) continue;
    const fw = s.firewall;
    for (const p of fw.ports) {
      if (fw.sources === undefined) siblingPorts.add(portKey(p));
      else for (const src of fw.sources) siblingPorts.add(sourceKey(p, src));
    }
    for (const n of fw.nodes) siblingNodes.add(n);
    for (const a of fw.addedPorts) if (a.sources !== undefined) siblingAdded.push({ protocol: a.protocol, port: a.port, sources: a.sources });
    for (const n of fw.addedNodes) siblingAddedNodes.add(n);
  }
  return { siblingPorts, siblingNodes, siblingAdded, siblingAddedNodes, taken };
}

/** Runs FindRoutedIP and FindRoutedIPFirewall; stops at the first failing read. */
export async function observe(ctx: SyncContext, settings: IssuerSettings, issuer: RoutedIPIssuer, nodes: readonly JudgedNode[]): Promise<Observation> {
  const targets = nodes.map((n) => n.target).filter((t): t is NodeTarget => t !== undefined);
  const lastElected = targets.find((t) => t.node === ctx.previous.electedNode);
  const foreign = ctx.siblings.flatMap((s) => [s.address, s.specAddress]).filter((a): a is string => a !== undefined);
  const siblings: SiblingClaim[] = ctx.siblings.map((s) => {
    const address = s.specAddress ?? s.address;
    return { uid: s.uid, ...(address !== undefined ? { address } : {}), ...(s.createIntent ? { intent: { target: s.createIntent.target, since: s.createIntent.since } } : {}) };
  });
  let ip: ObservedRoutedIP | undefined;
  let inventory: AddressInventory | undefined;
  let occupiedIds: ReadonlySet<string> | undefined;
  try {
    ip = await issuer.findRoutedIP({
      owner: ctx.owner,
      ...(ctx.parent.spec?.address ? { address: ctx.parent.spec.address } : {}),
      ...(ctx.previous.address !== undefined ? { lastKnownAddress: ctx.previous.address } : {}),
      ...(lastElected ? { lastElected } : {}),
      nodes: targets,
      foreignAddresses: [...new Set(foreign)].sort(),
      ...(ctx.previous.createIntent ? { intent: ctx.previous.createIntent } : {}),
      siblings,
      ...(settings.firewallName !== undefined ? { firewallName: settings.firewallName } : {}),
    });
    inventory = await issuer.addressInventory?.();
    occupiedIds = await occupiedCandidates(issuer, nodes, ip);
  } catch (err) {
    return { nodes, error: toIssuerError(err), failedStep: 'FindRoutedIP' };
  }
  const occupied = new Set([...(inventory ? occupiedNodes(nodes, inventory, ip) : []), ...nodes.filter((n) => n.target && occupiedIds?.has(n.target.id)).map((n) => n.name)]);
  const found = { nodes, ...(ip ? { ip } : {}), ...(inventory ? { inventory } : {}), ...(inventory || occupiedIds ? { occupied } : {}) };
  if (settings.firewallName === undefined) return found;
  try {
    const firewall = await issuer.findRoutedIPFirewall(settings.firewallName, ctx.owner);
    return { ...found, ...(firewall ? { firewall } : {}) };
  } catch (err) {
    return { ...found, error: toIssuerError(err), failedStep: 'FindRoutedIPFirewall' };
  }
}

/**
 * `issuer.occupiedMachines` for the eligible nodes, asked only when the election is fresh: an
 * eligible holder keeps the IP whatever else its machine holds (so a converged sync reads nothing
 * more).
 */
async function occupiedCandidates(issuer: RoutedIPIssuer, nodes: readonly JudgedNode[], ip: ObservedRoutedIP | undefined): Promise<ReadonlySet<string> | undefined> {
  if (!issuer.occupiedMachines) return undefined;
  const candidates = nodes.filter((n) => n.eligible).map((n) => n.target).filter((t): t is NodeTarget => t !== undefined);
  if (candidates.length === 0 || (ip?.holder !== undefined && candidates.some((t) => t.id === ip.holder))) return undefined;
  return issuer.occupiedMachines(candidates, ip);
}

/**
 * Nodes whose machine holds an address other than ours. Compared by address, not by the holder
 * `ip` reported: the listing may be a moment newer than the read that found `ip` (an assign that
 * completed in between must not make our own target look occupied).
 */
function occupiedNodes(nodes: readonly JudgedNode[], inventory: AddressInventory, ip: ObservedRoutedIP | undefined): Set<string> {
  const taken = new Set(inventory.held.filter((h) => h.address !== ip?.address).map((h) => h.holder));
  return new Set(nodes.filter((n) => n.target && taken.has(n.target.id)).map((n) => n.name));
}

/** The execution input for steps planned from `seen`. */
export function executionInput(ctx: SyncContext, settings: IssuerSettings, issuer: RoutedIPIssuer, seen: Observation, deps: RunDeps): ExecutionInput {
  return {
    issuer,
    owner: ctx.owner,
    ...(seen.ip ? { ip: seen.ip } : {}),
    ...(seen.firewall ? { firewall: seen.firewall } : {}),
    ...(ctx.previous.createIntent ? { createIntent: ctx.previous.createIntent } : {}),
    dryRun: settings.dryRun,
    logger: deps.logger,
    session: deps.session,
    ...(deps.onWrite ? { onWrite: deps.onWrite } : {}),
  };
}
