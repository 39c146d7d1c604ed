/**
 * The issuer contract suite: idempotency, ownership and error tests that every RoutedIPIssuer
 * must pass, whatever cloud it talks to. An issuer's test file calls
 * `issuerContract(t, adapter)`; the adapter builds a fresh world per subtest (a fake server, a
 * seeded account) and describes it. Asynchronous clouds pass `settle` to complete pending actions.
 *
 * What the suite relies on beyond `src/issuers/issuer.ts`: an unknown `spec.address` rejects with
 * `IssuerNotFoundError` reason `AddressNotFound`.
 */
import type { Test } from 'tap';
import { IssuerError, IssuerNotFoundError } from '../../src/issuers/errors.js';
import type { FindRoutedIPQuery, FirewallRule, NodeTarget, ObservedRoutedIP, RoutedIPIssuer, RoutedIPOwner } from '../../src/issuers/issuer.js';

/** One fresh cloud account, as the adapter set it up. */
export interface ContractWorld {
  readonly issuer: RoutedIPIssuer;
  /** Two distinct machines the IP can be assigned to. */
  readonly nodes: readonly [NodeTarget, NodeTarget];
  /** A firewall that exists and already holds `foreign`. */
  readonly firewallName: string;
  /** Rules and node ids in that firewall that the suite did not add and must never lose. */
  readonly foreign: { readonly rules: readonly FirewallRule[]; readonly nodes: readonly string[] };
  /** An existing, untagged address the issuer can adopt, when the adapter can seed one. */
  readonly adoptableAddress?: string;
  /** A well-formed address that does not exist in the account. */
  readonly unknownAddress: string;
  /** Completes pending cloud actions; called between polls of `findRoutedIP`. */
  readonly settle?: () => Promise<void>;
  /** Mutating calls that reached the cloud so far; lets the suite check that reads never write. */
  readonly writes?: () => number;
  /** Strings (tokens) that must never appear in an error message. */
  readonly secrets?: readonly string[];
}

/** Builds worlds for the suite. */
export interface ContractAdapter {
  readonly name: string;
  world(t: Test): Promise<ContractWorld>;
}

const OWNER: RoutedIPOwner = { namespace: 'contract', name: 'public', uid: 'uid-contract-a' };
const OTHER: RoutedIPOwner = { namespace: 'contract', name: 'other', uid: 'uid-contract-b' };
/** A port and source no adapter's foreign rules are expected to use. */
const OUR_RULE: FirewallRule = { protocol: 'tcp', port: 64999, sources: ['198.51.100.0/24'] };

const query = (w: ContractWorld, owner: RoutedIPOwner, extra: Partial<FindRoutedIPQuery> = {}): FindRoutedIPQuery => ({
  owner, nodes: w.nodes, lastElected: w.nodes[0], foreignAddresses: [], ...extra,
});

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(t: Test, promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  t.fail('expected a rejection');
  return undefined;
}

/** Observes the owner's IP until no action is pending. */
async function settled(w: ContractWorld, owner: RoutedIPOwner): Promise<ObservedRoutedIP | undefined> {
  for (let i = 0; i < 20; i++) {
    const ip = await w.issuer.findRoutedIP(query(w, owner));
    if (!ip?.pendingAction) return ip;
    await w.settle?.();
  }
  throw new Error('action never completed');
}

/** A created IP, settled and assigned to `nodes[0]`. */
async function assigned(w: ContractWorld): Promise<ObservedRoutedIP> {
  await w.issuer.createRoutedIP(OWNER, w.nodes[0]);
  const ip = (await settled(w, OWNER)) as ObservedRoutedIP;
  if (ip.holder !== w.nodes[0].id) await w.issuer.assignRoutedIP(ip, w.nodes[0]);
  return (await settled(w, OWNER)) as ObservedRoutedIP;
}

/** Registers the contract subtests for `adapter` under `t`. */
export function issuerContract(t: Test, adapter: ContractAdapter): void {
  const test = (name: string, fn: (t: Test, w: ContractWorld) => Promise<void>): void => {
    t.test(`${adapter.name}: ${name}`, async (t) => fn(t, await adapter.world(t)));
  };

  test('findRoutedIP finds nothing for an owner that has no address, and writes nothing', async (t, w) => {
    const before = w.writes?.();
    t.equal(await w.issuer.findRoutedIP(query(w, OWNER)), undefined);
    t.equal(w.writes?.(), before, 'a read makes no mutating call');
  });

  test('a created address is found again from the owner alone (lost response), and only by it', async (t, w) => {
    const created = await w.issuer.createRoutedIP(OWNER, w.nodes[0]);
    const found = await settled(w, OWNER);
    t.match(found, { id: created.id, address: created.address });
    const other = await w.issuer.findRoutedIP(query(w, OTHER, { lastElected: w.nodes[1], foreignAddresses: [created.address] }));
    t.equal(other, undefined, 'another RoutedIP never claims it');
  });

  test('assign is idempotent and moves the address', async (t, w) => {
    const ip = await assigned(w);
    t.equal(ip.holder, w.nodes[0].id);
    const again = await w.issuer.assignRoutedIP(ip, w.nodes[0]);
    t.same(again, { done: true }, 'assigning where it already points is done');
    await w.issuer.assignRoutedIP(ip, w.nodes[1]);
    t.equal((await settled(w, OWNER))?.holder, w.nodes[1].id);
  });

  test('unassign and release are idempotent; a released address is gone', async (t, w) => {
    const ip = await assigned(w);
    await w.issuer.unassignRoutedIP(ip);
    const detached = (await settled(w, OWNER)) as ObservedRoutedIP;
    t.equal(detached.holder, undefined);
    t.same(await w.issuer.unassignRoutedIP(detached), { done: true }, 'unassigning twice is done');
    await w.issuer.releaseRoutedIP(detached);
    t.equal(await settled(w, OWNER), undefined);
    t.same(await w.issuer.releaseRoutedIP(detached), { done: true }, 'releasing twice is done');
    t.same(await w.issuer.unassignRoutedIP(detached), { done: true }, 'unassigning a released address is done');
  });

  test('spec.address adopts an existing address; an unknown one is AddressNotFound', async (t, w) => {
    if (w.adoptableAddress) {
      const ip = await w.issuer.findRoutedIP(query(w, OWNER, { address: w.adoptableAddress }));
      t.equal(ip?.address, w.adoptableAddress);
    }
    const err = await rejection(t, w.issuer.findRoutedIP(query(w, OWNER, { address: w.unknownAddress })));
    t.ok(err instanceof IssuerNotFoundError, 'IssuerNotFoundError');
    t.equal((err as IssuerError).reason, 'AddressNotFound');
    for (const secret of w.secrets ?? []) t.notMatch((err as Error).message, secret);
  });

  test('findRoutedIPFirewall sees the named firewall with its foreign entries; a missing one is undefined', async (t, w) => {
    const fw = await w.issuer.findRoutedIPFirewall(w.firewallName, OWNER);
    t.equal(fw?.name, w.firewallName);
    for (const rule of w.foreign.rules) t.match(fw?.rules, [{ protocol: rule.protocol, port: rule.port }], `foreign ${rule.protocol}/${rule.port}`);
    for (const node of w.foreign.nodes) t.ok(fw?.nodes.includes(node), `foreign node ${node}`);
    t.equal(await w.issuer.findRoutedIPFirewall('contract-no-such-firewall', OWNER), undefined);
  });

  test('firewall ports: adding twice opens one rule, deleting removes only ours, twice', async (t, w) => {
    const fw = (await w.issuer.findRoutedIPFirewall(w.firewallName, OWNER))!;
    await w.issuer.addRoutedIPFirewallPort(fw, [OUR_RULE], OWNER);
    await w.issuer.addRoutedIPFirewallPort(fw, [OUR_RULE], OWNER);
    const opened = (await w.issuer.findRoutedIPFirewall(w.firewallName, OWNER))!;
    t.same(opened.rules.filter((r) => r.port === OUR_RULE.port), [OUR_RULE]);
    await w.issuer.deleteRoutedIPFirewallPort(opened, [OUR_RULE], OWNER);
    await w.issuer.deleteRoutedIPFirewallPort(opened, [OUR_RULE], OWNER);
    const closed = (await w.issuer.findRoutedIPFirewall(w.firewallName, OWNER))!;
    t.same(closed.rules, fw.rules, 'back to the foreign rules exactly');
  });

  test('firewall nodes: adding twice applies once, deleting keeps foreign nodes, twice', async (t, w) => {
    const fw = (await w.issuer.findRoutedIPFirewall(w.firewallName, OWNER))!;
    await w.issuer.addRoutedIPFirewallNode(fw, w.nodes[0]);
    await w.issuer.addRoutedIPFirewallNode(fw, w.nodes[0]);
    const added = (await w.issuer.findRoutedIPFirewall(w.firewallName, OWNER))!;
    t.equal(added.nodes.filter((n) => n === w.nodes[0].id).length, 1);
    await w.issuer.deleteRoutedIPFirewallNode(added, w.nodes[0].id);
    await w.issuer.deleteRoutedIPFirewallNode(added, w.nodes[0].id);
    const removed = (await w.issuer.findRoutedIPFirewall(w.firewallName, OWNER))!;
    t.same([...removed.nodes].sort(), [...fw.nodes].sort());
  });

  test('observations are copies: changing one does not change the cloud', async (t, w) => {
    const fw = (await w.issuer.findRoutedIPFirewall(w.firewallName, OWNER))!;
    const expected = structuredClone(fw);
    (fw.nodes as string[]).push('intruder');
    (fw.rules as FirewallRule[]).length = 0;
    t.same(await w.issuer.findRoutedIPFirewall(w.firewallName, OWNER), expected);
  });

  test('writes on a released address reject with an IssuerError', async (t, w) => {
    const ip = await assigned(w);
    await w.issuer.unassignRoutedIP(ip);
    await w.issuer.releaseRoutedIP((await settled(w, OWNER))!);
    const err = await rejection(t, w.issuer.assignRoutedIP(ip, w.nodes[1]));
    t.ok(err instanceof IssuerError, `got ${String(err)}`);
    for (const secret of w.secrets ?? []) t.notMatch((err as Error).message, secret);
  });
}
