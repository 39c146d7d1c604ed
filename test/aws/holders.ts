/**
 * Who holds each Elastic IP, as EC2 reports it. The issuer associates by network interface, and
 * moto then reports only `NetworkInterfaceId` on the address (real EC2 also fills `InstanceId`),
 * so a holder is the address's instance or else the instance its interface is attached to.
 */
import { DescribeAddressesCommand, DescribeNetworkInterfacesCommand, type EC2Client } from '@aws-sdk/client-ec2';

/** One Elastic IP: its public address, the instance holding it (if any), its tags. */
export interface HeldAddress {
  readonly publicIp: string;
  readonly instanceId?: string;
  readonly tags: Record<string, string>;
}

/** Every Elastic IP of the account with its holder instance resolved. */
export async function heldAddresses(ec2: EC2Client): Promise<HeldAddress[]> {
  const out = await ec2.send(new DescribeAddressesCommand({}));
  const enis = await ec2.send(new DescribeNetworkInterfacesCommand({}));
  const instanceOfEni = new Map((enis.NetworkInterfaces ?? []).map((e) => [e.NetworkInterfaceId, e.Attachment?.InstanceId]));
  return (out.Addresses ?? []).map((a) => {
    const instanceId = a.InstanceId || (a.NetworkInterfaceId ? instanceOfEni.get(a.NetworkInterfaceId) : undefined);
    return {
      publicIp: a.PublicIp ?? '',
      ...(instanceId ? { instanceId } : {}),
      tags: Object.fromEntries((a.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
    };
  });
}
