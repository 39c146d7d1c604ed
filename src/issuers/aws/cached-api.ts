/**
 * The EC2 seam with the account's read cache in front (session module): the issuer's code calls
 * the same `Ec2Api` and never knows whether an answer was shared.
 *
 * - DescribeAddresses by our UID tag (`tag:routedip.io/uid = <uid>`, what FindRoutedIP asks) is
 *   answered from one call for all of our addresses (`tag-key = routedip.io/uid`), filtered here,
 *   so every RoutedIP of the account shares it.
 * - Every other Describe is shared per exact input (one security group and its interfaces serve
 *   every RoutedIP that uses that firewall).
 * - Every other call is a write: the account's cached answers are dropped once it answered or
 *   failed (a failed write may have taken effect).
 *
 * Whether a read may take a stored answer is the hook call's choice (`HookSession.reads`).
 */
import type { Address, DescribeAddressesCommandInput, DescribeAddressesCommandOutput } from '@aws-sdk/client-ec2';
import type { HookSession } from '../session.js';
import type { Ec2Api } from './client.js';
import { UID_TAG } from './context.js';

const UID_FILTER = `tag:${UID_TAG}`;
/** DescribeAddresses of every address carrying our UID tag: one call for all RoutedIPs of the account. */
const ALL_TAGGED = { Filters: [{ Name: 'tag-key', Values: [UID_TAG] }] };
/** The cache key of a Describe call. */
const readKey = (name: string, input: unknown): string => `ec2/${name}/${JSON.stringify(input)}`;

/** The uid asked for when `input` is exactly "addresses tagged with this RoutedIP's uid". */
function uidAsked(input: DescribeAddressesCommandInput): string | undefined {
  const filters = input.Filters ?? [];
  const only = filters[0];
  if (filters.length !== 1 || only?.Name !== UID_FILTER || only.Values?.length !== 1) return undefined;
  if (input.AllocationIds?.length || input.PublicIps?.length) return undefined;
  return only.Values[0];
}

const tagged = (a: Address, uid: string): boolean => (a.Tags ?? []).some((t) => t.Key === UID_TAG && t.Value === uid);

/**
 * The allocation ids that pass `test` in the account's last answer to DescribeAddresses `input`,
 * of any age (`HookSession.latestAnswer`: `cached` reads only, dropped by every write of ours),
 * or `undefined` when there is none.
 */
function lastAllocations(session: HookSession, input: unknown, test: (a: Address) => boolean): string[] | undefined {
  const out = session.latestAnswer<DescribeAddressesCommandOutput>(readKey('describeAddresses', input));
  return out && (out.Addresses ?? []).flatMap((a) => (a.AllocationId !== undefined && test(a) ? [a.AllocationId] : []));
}

/**
 * The allocation ids carrying `uid`'s tag in the account's last listing of our addresses, of
 * any age. Which allocation carries our mark does not go stale with the TTL as where it points
 * does: allocation ids are unique in the account and never reused, and we never move our tag.
 * Where the address points must still come from a read within the TTL.
 */
export const lastTaggedAllocations = (session: HookSession, uid: string): string[] | undefined => lastAllocations(session, ALL_TAGGED, (a) => tagged(a, uid));

/**
 * The allocation ids of `address` in the account's last DescribeAddresses by that public IP
 * (what adopting `spec.address` asks), of any age. The adoption's evidence is the public IP the
 * user named; the allocation id it had when last looked up recognises that address on a member
 * interface (a public IP released and allocated again gets a new allocation id, which the usual
 * lookup then finds).
 */
export const lastAdoptedAllocations = (session: HookSession, address: string): string[] | undefined =>
  lastAllocations(session, adoptionQuery(address), (a) => a.PublicIp === address);

/** DescribeAddresses of one public IP (adopting `spec.address`). */
export const adoptionQuery = (address: string) => ({ Filters: [{ Name: 'public-ip', Values: [address] }] });

/**
 * Wraps `api` (already bound to the call's signal) with the account cache of `session`. Methods
 * are told apart by name, so a call added to the seam later is cached or invalidating without a
 * change here: `describe*` reads, anything else writes.
 */
export function cachedEc2Api(api: Ec2Api, session: HookSession): Ec2Api {
  const wrapped: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, method] of Object.entries(api) as Array<[string, (input: unknown) => Promise<unknown>]>) {
    wrapped[name] = name.startsWith('describe')
      ? (input) => session.read(readKey(name, input), `EC2 ${name}`, () => method(input))
      : async (input) => {
          try {
            return await method(input);
          } finally {
            session.wrote();
          }
        };
  }
  const describeAddresses = wrapped.describeAddresses as Ec2Api['describeAddresses'];
  return {
    ...(wrapped as unknown as Ec2Api),
    describeAddresses: async (input): Promise<DescribeAddressesCommandOutput> => {
      const uid = uidAsked(input);
      if (uid === undefined) return describeAddresses(input);
      const all = await describeAddresses(ALL_TAGGED);
      return { ...all, Addresses: (all.Addresses ?? []).filter((a) => tagged(a, uid)) };
    },
  };
}
