/**
 * Kubernetes node → EC2 instance, from `spec.providerID` as cloud-provider-aws writes it:
 * `aws:///<zone>/<instance-id>` (also `aws:////<instance-id>` without a zone).
 */
import type { Node } from '../../schemas/kubernetes.js';
import type { NodeTarget } from '../issuer.js';

const PROVIDER_ID = /^aws:\/\/\/([^/]*)\/(i-[0-9a-zA-Z]+)$/;

/**
 * Zone names as EC2 spells them: the region, then the zone part.
 * - Availability Zone: a letter, `us-east-1a`, `us-gov-west-1a`, `cn-north-1a`.
 * - Local Zone: `-<location>-<n><letter>`, `us-west-2-lax-1a` (zone group `us-west-2-lax-1`).
 * - Wavelength Zone: `-wl1-<location>-wlz-<n>`, `us-east-1-wl1-bos-wlz-1` (ends in a digit).
 * A region is letter-only segments and then a number (`us-east-1`, `us-iso-east-1`), so the
 * first number segment ends it.
 */
const ZONE = /^([a-z]{2,}(?:-[a-z]+)+-\d+)(?:([a-z])|-[a-z0-9]+(?:-[a-z0-9]+)*)$/;

/** What a zone name says: its region, and whether it is an Availability Zone of that region. */
export interface ZoneName {
  readonly region: string;
  /**
   * False for Local Zones and Wavelength Zones: each is a network border group of its own, and
   * an Elastic IP of the region's border group cannot be associated there.
   */
  readonly availabilityZone: boolean;
}

/** Parses a zone name; `undefined` when `zone` does not look like one (a region, a DO slug). */
export function parseZone(zone: string): ZoneName | undefined {
  const m = ZONE.exec(zone);
  return m ? { region: m[1] as string, availabilityZone: m[2] !== undefined } : undefined;
}

/**
 * The region a zone belongs to: `us-east-1a` → `us-east-1`, Local Zone `us-west-2-lax-1a` →
 * `us-west-2`, Wavelength Zone `us-east-1-wl1-bos-wlz-1` → `us-east-1`.
 */
export const regionOfZone = (zone: string): string | undefined => parseZone(zone)?.region;

/**
 * Parses `node`'s providerID for an issuer in `region`. Returns `undefined` when it does not
 * parse, or when its zone is in another region: such a node is not eligible, so the election
 * picks a node the Elastic IP can reach (EIPs never cross regions).
 */
export function awsNodeTarget(node: Node, region: string): NodeTarget | undefined {
  const m = PROVIDER_ID.exec(node.spec?.providerID ?? '');
  if (!m) return undefined;
  const zone = m[1] ?? '';
  const id = m[2] as string;
  if (zone === '') return { node: node.metadata.name, id };
  if (regionOfZone(zone) !== region) return undefined;
  return { node: node.metadata.name, id, zone };
}
