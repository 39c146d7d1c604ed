/**
 * Reading an instance's network interfaces: the primary one (device index 0) carries the
 * Elastic IP and the security group; the others are left alone (multi-ENI nodes, VPC CNI).
 */
import type { Instance, InstanceNetworkInterface } from '@aws-sdk/client-ec2';
import { IssuerNotFoundError } from '../errors.js';
import type { AwsContext } from './context.js';
import { hasCode } from './errors.js';

/** A network interface as the issuer needs it. */
export interface NetworkInterface {
  readonly id: string;
  /** Private IPv4 addresses, the primary first. */
  readonly privateIps: readonly string[];
  /** Security group ids, in the order EC2 reports them. */
  readonly groups: readonly string[];
  readonly deviceIndex: number;
}

/** What `toInterface` reads: common to DescribeInstances' and DescribeNetworkInterfaces' shapes. */
type InterfaceShape = Pick<InstanceNetworkInterface, 'NetworkInterfaceId' | 'PrivateIpAddress' | 'Groups'> & {
  readonly PrivateIpAddresses?: ReadonlyArray<{ readonly PrivateIpAddress?: string | undefined; readonly Primary?: boolean | undefined }> | undefined;
  readonly Attachment?: { readonly DeviceIndex?: number | undefined } | undefined;
};

const toInterface = (eni: InterfaceShape): NetworkInterface => {
  const ips = (eni.PrivateIpAddresses ?? []).filter((p) => p.PrivateIpAddress).sort((a, b) => Number(b.Primary === true) - Number(a.Primary === true));
  const privateIps = ips.map((p) => p.PrivateIpAddress as string);
  if (privateIps.length === 0 && eni.PrivateIpAddress) privateIps.push(eni.PrivateIpAddress);
  return {
    id: eni.NetworkInterfaceId ?? '',
    privateIps,
    groups: (eni.Groups ?? []).map((g) => g.GroupId ?? '').filter((g) => g !== ''),
    deviceIndex: eni.Attachment?.DeviceIndex ?? 0,
  };
};

/** The instance `instanceId`, or `undefined` when EC2 does not know it (or it is terminated). */
export async function findInstance(ctx: AwsContext, instanceId: string): Promise<Instance | undefined> {
  try {
    const out = await ctx.call('DescribeInstances', () => ctx.api.describeInstances({ InstanceIds: [instanceId] }));
    const instance = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
    return instance?.State?.Name === 'terminated' ? undefined : instance;
  } catch (err) {
    if (err instanceof IssuerNotFoundError || hasCode(err, 'InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed')) return undefined;
    throw err;
  }
}

/** Every network interface of `instance`, primary (device index 0) first. */
export const interfacesOf = (instance: Instance): NetworkInterface[] =>
  (instance.NetworkInterfaces ?? []).map(toInterface).filter((n) => n.id !== '').sort((a, b) => a.deviceIndex - b.deviceIndex);

/** The primary network interface (device index 0) of `instance`, if EC2 lists one. */
export const primaryOf = (instance: Instance): NetworkInterface | undefined => interfacesOf(instance).find((n) => n.deviceIndex === 0);

/** Filter values per EC2 Describe call: well below EC2's limit on values per filter. */
export const FILTER_VALUES_PER_CALL = 100;

/** `values` in slices of at most FILTER_VALUES_PER_CALL. */
export const slices = <T>(values: readonly T[]): T[][] =>
  Array.from({ length: Math.ceil(values.length / FILTER_VALUES_PER_CALL) }, (_, i) => values.slice(i * FILTER_VALUES_PER_CALL, (i + 1) * FILTER_VALUES_PER_CALL));

/**
 * The primary network interfaces (device index 0) of `instanceIds`, by instance id, read by
 * DescribeNetworkInterfaces `attachment.instance-id` (an unknown id is absent, not an error as
 * in DescribeInstances).
 */
export async function primaryInterfaces(ctx: AwsContext, instanceIds: readonly string[]): Promise<Map<string, NetworkInterface>> {
  const out = new Map<string, NetworkInterface>();
  for (const ids of slices(instanceIds)) {
    const page = await ctx.call('DescribeNetworkInterfaces', () => ctx.api.describeNetworkInterfaces({ Filters: [{ Name: 'attachment.instance-id', Values: ids }] }));
    for (const raw of page.NetworkInterfaces ?? []) {
      const instanceId = raw.Attachment?.InstanceId;
      const eni = toInterface(raw);
      if (instanceId !== undefined && raw.Attachment?.DeviceIndex === 0 && eni.id !== '') out.set(instanceId, eni);
    }
  }
  return out;
}

/** The primary network interface of `instanceId`; throws `IssuerNotFoundError` when there is none. */
export async function primaryInterface(ctx: AwsContext, instanceId: string): Promise<NetworkInterface> {
  const instance = await findInstance(ctx, instanceId);
  if (!instance) throw new IssuerNotFoundError(`EC2 instance ${instanceId} was not found in region ${ctx.region}`, 'InstanceNotFound', true);
  const primary = primaryOf(instance);
  if (!primary) throw new IssuerNotFoundError(`EC2 instance ${instanceId} has no network interface`, 'NetworkInterfaceNotFound', true);
  return primary;
}
