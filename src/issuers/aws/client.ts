/**
 * The narrow EC2 seam: only the commands the AWS issuer uses, over one `EC2Client.send`.
 *
 * Each method takes and returns the SDK's own input/output shapes, so the wire encoding
 * (`SecurityGroupId.N`, `Filter.N.Value.M`, …) stays the SDK's job and tests against a wire-level
 * peer exercise it for real. Errors are SDK errors here; `errors.ts` maps them.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DisassociateAddressCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  ReleaseAddressCommand,
  RevokeSecurityGroupIngressCommand,
  type AllocateAddressCommandInput,
  type AllocateAddressCommandOutput,
  type AssociateAddressCommandInput,
  type AssociateAddressCommandOutput,
  type AuthorizeSecurityGroupIngressCommandInput,
  type DescribeAddressesCommandInput,
  type DescribeAddressesCommandOutput,
  type DescribeInstancesCommandInput,
  type DescribeInstancesCommandOutput,
  type DescribeNetworkInterfacesCommandInput,
  type DescribeNetworkInterfacesCommandOutput,
  type DescribeSecurityGroupsCommandInput,
  type DescribeSecurityGroupsCommandOutput,
  type DisassociateAddressCommandInput,
  type ModifyNetworkInterfaceAttributeCommandInput,
  type ReleaseAddressCommandInput,
  type RevokeSecurityGroupIngressCommandInput,
} from '@aws-sdk/client-ec2';

/** The EC2 calls the issuer makes. Names are the EC2 Action names. */
export interface Ec2Api {
  describeAddresses(input: DescribeAddressesCommandInput): Promise<DescribeAddressesCommandOutput>;
  allocateAddress(input: AllocateAddressCommandInput): Promise<AllocateAddressCommandOutput>;
  associateAddress(input: AssociateAddressCommandInput): Promise<AssociateAddressCommandOutput>;
  disassociateAddress(input: DisassociateAddressCommandInput): Promise<unknown>;
  releaseAddress(input: ReleaseAddressCommandInput): Promise<unknown>;
  describeInstances(input: DescribeInstancesCommandInput): Promise<DescribeInstancesCommandOutput>;
  describeNetworkInterfaces(input: DescribeNetworkInterfacesCommandInput): Promise<DescribeNetworkInterfacesCommandOutput>;
  describeSecurityGroups(input: DescribeSecurityGroupsCommandInput): Promise<DescribeSecurityGroupsCommandOutput>;
  authorizeSecurityGroupIngress(input: AuthorizeSecurityGroupIngressCommandInput): Promise<unknown>;
  revokeSecurityGroupIngress(input: RevokeSecurityGroupIngressCommandInput): Promise<unknown>;
  modifyNetworkInterfaceAttribute(input: ModifyNetworkInterfaceAttributeCommandInput): Promise<unknown>;
}

/** Static credentials from a Secret; absent = the SDK's default chain (IRSA, instance role, env). */
export interface Ec2Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** How to build a client. */
export interface Ec2ClientConfig {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: Ec2Credentials;
  /** SDK attempts per call (1 = no SDK retry). */
  readonly maxAttempts: number;
  /** Per-request timeout, well below Metacontroller's 10 s hook timeout. */
  readonly requestTimeoutMs: number;
}

/** Builds the SDK client. Its logger stays the SDK's no-op one: inputs are never logged. */
export function buildEc2Client(config: Ec2ClientConfig): EC2Client {
  return new EC2Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
    maxAttempts: config.maxAttempts,
    // Without throwOnRequestTimeout the handler only warns when requestTimeout passes (smithy
    // kept the old socket-idle meaning); a hung EC2 would then outlive the hook timeout.
    requestHandler: {
      requestTimeout: config.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: config.requestTimeoutMs,
      connectionTimeout: Math.min(config.requestTimeoutMs, 2000),
    },
  });
}

/** Wraps a client in the seam. */
export function ec2Api(client: EC2Client): Ec2Api {
  return {
    describeAddresses: (input) => client.send(new DescribeAddressesCommand(input)),
    allocateAddress: (input) => client.send(new AllocateAddressCommand(input)),
    associateAddress: (input) => client.send(new AssociateAddressCommand(input)),
    disassociateAddress: (input) => client.send(new DisassociateAddressCommand(input)),
    releaseAddress: (input) => client.send(new ReleaseAddressCommand(input)),
    describeInstances: (input) => client.send(new DescribeInstancesCommand(input)),
    describeNetworkInterfaces: (input) => client.send(new DescribeNetworkInterfacesCommand(input)),
    describeSecurityGroups: (input) => client.send(new DescribeSecurityGroupsCommand(input)),
    authorizeSecurityGroupIngress: (input) => client.send(new AuthorizeSecurityGroupIngressCommand(input)),
    revokeSecurityGroupIngress: (input) => client.send(new RevokeSecurityGroupIngressCommand(input)),
    modifyNetworkInterfaceAttribute: (input) => client.send(new ModifyNetworkInterfaceAttributeCommand(input)),
  };
}
