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

/** How to build the clients of one account. */
export interface Ec2ClientConfig {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: Ec2Credentials;
  /** Per-request timeout; the hook's deadline (HOOK_TIMEOUT_SECONDS) bounds the whole call on top of it. */
  readonly requestTimeoutMs: number;
}

/** SDK attempts for calls that are safe to repeat (reads, idempotent writes). */
export const RETRYING_ATTEMPTS = 2;

/**
 * The two SDK clients of one account. `retrying` may send a call twice (a timeout, a reset
 * connection, a 5xx or a throttle make the SDK try again); `once` never does. AllocateAddress
 * goes through `once`: it has no ClientToken, so a second attempt after a lost or slow answer
 * would allocate a second address. Whether a failed allocation took effect is learnt by looking
 * the UID tag up again instead (`addresses.ts`).
 */
export interface Ec2Clients {
  readonly retrying: EC2Client;
  readonly once: EC2Client;
}

/** Builds one SDK client. Its logger stays the SDK's no-op one: inputs are never logged. */
function buildClient(config: Ec2ClientConfig, maxAttempts: number): EC2Client {
  return new EC2Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
    maxAttempts,
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

/** Builds the clients of one account (the production configuration: tests use it too). */
export function buildEc2Clients(config: Ec2ClientConfig): Ec2Clients {
  return { retrying: buildClient(config, RETRYING_ATTEMPTS), once: buildClient(config, 1) };
}

/**
 * Wraps the clients in the seam; AllocateAddress is the one call sent through `once`. Every
 * request, the one-attempt AllocateAddress included, carries `signal` (the hook call's deadline).
 */
export function ec2Api(clients: Ec2Clients, signal?: AbortSignal): Ec2Api {
  const client = clients.retrying;
  const opts = signal ? { abortSignal: signal } : {};
  return {
    describeAddresses: (input) => client.send(new DescribeAddressesCommand(input), opts),
    allocateAddress: (input) => clients.once.send(new AllocateAddressCommand(input), opts),
    associateAddress: (input) => client.send(new AssociateAddressCommand(input), opts),
    disassociateAddress: (input) => client.send(new DisassociateAddressCommand(input), opts),
    releaseAddress: (input) => client.send(new ReleaseAddressCommand(input), opts),
    describeInstances: (input) => client.send(new DescribeInstancesCommand(input), opts),
    describeNetworkInterfaces: (input) => client.send(new DescribeNetworkInterfacesCommand(input), opts),
    describeSecurityGroups: (input) => client.send(new DescribeSecurityGroupsCommand(input), opts),
    authorizeSecurityGroupIngress: (input) => client.send(new AuthorizeSecurityGroupIngressCommand(input), opts),
    revokeSecurityGroupIngress: (input) => client.send(new RevokeSecurityGroupIngressCommand(input), opts),
    modifyNetworkInterfaceAttribute: (input) => client.send(new ModifyNetworkInterfaceAttributeCommand(input), opts),
  };
}
