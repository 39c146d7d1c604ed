/**
 * Kubernetes node → EC2 instance, from `spec.providerID` as cloud-provider-aws writes it:
 * `aws:///<zone>/<instance-id>` (also `aws:////<instance-id>` without a zone).
 */
import type { Node } from '../../schemas/kubernetes.js';
import type { NodeTarget } from '../issuer.js';

const PROVIDER_ID = /^aws:\/\/\/([^/]*)\/(i-[0-9a-zA-Z]+)$/;

/**
 * The region an availability zone belongs to: `us-east-1a` → `us-east-1`, Local Zones
 * `us-west-2-lax-1a` → `us-west-2`. `undefined` when `zone` does not look like a zone.
 */
export function regionOfZone(zone: string): string | undefined {
  const m = /^([a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d+)(?:[a-z]|-[a-z0-9-]+[a-z])$/.exec(zone);
  return m?.[1];
}

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
