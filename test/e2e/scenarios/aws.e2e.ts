/**
 * The AWS issuer, driven by real Metacontroller, against moto's EC2 server: an Elastic IP on the
 * holder's instance with the security group on its interface, a failover when the holder's
 * Node goes NotReady, and a Delete finalize that releases the address.
 */
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import t from 'tap';
import { heldAddresses } from '../../aws/holders.js';
import { motoAvailable, startMoto, type MotoServer } from '../../aws/moto.js';
import { connect } from '../kube.js';
import { issuer, routedIP, secret } from '../objects.js';
import { Runbook } from '../runbook.js';

const kube = connect(t);
const moto = motoAvailable();
if (kube && !moto.ok && process.env.CI !== 'true') t.plan(0, moto.reason);
else if (kube) {
  const ns = 'e2e-aws';
  const run = new Runbook(kube, ns);
  const REGION = 'us-east-1';
  const credentials = { accessKeyId: 'AKIDROUTEDIPE2E', secretAccessKey: 'e2e-secret-never-logged' };
  const instances = new Map<string, string>();
  let server: MotoServer;
  let ec2: EC2Client;
  // The issuer associates by network interface: the holder is resolved through it.
  const holderOf = async (ip: string) => (await heldAddresses(ec2)).find((a) => a.publicIp === ip)?.instanceId;
  const allAddresses = () => heldAddresses(ec2);

  t.before(async () => {
    server = await startMoto();
    // A copy: the SDK marks the credentials object it is given ($source), which would end up in the Secret.
    ec2 = new EC2Client({ region: REGION, endpoint: server.endpoint, credentials: { ...credentials }, maxAttempts: 1 });
    const base = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'nodes', Description: 'node group' }))).GroupId;
    const group = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'ingress-public', Description: 'public ingress' }))).GroupId;
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }));
    for (const name of ['aws-a', 'aws-b']) {
      const out = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', Placement: { AvailabilityZone: `${REGION}a` }, SecurityGroupIds: [base ?? ''] }));
      instances.set(name, out.Instances?.[0]?.InstanceId ?? '');
    }
    await run.begin([...instances.keys()], (n) => `aws:///${REGION}a/${instances.get(n)}`, { 'topology.kubernetes.io/region': REGION });
    await run.serve('ingress-nginx', [{ port: 443, protocol: 'TCP' }], [...instances.keys()]);
    await run.apply(secret(ns, 'aws-creds', credentials));
    await run.apply(issuer(ns, 'aws', { routedIPReclaimPolicy: 'Delete', routedIPFirewallName: 'ingress-public', aws: { region: REGION, endpoint: server.endpoint, credentialsSecretRef: { name: 'aws-creds' } } }));
  });
  t.teardown(async () => {
    ec2?.destroy();
    await server?.stop();
  });

  t.test('a new RoutedIP gets an Elastic IP on its instance', async (t) => {
    await run.apply(routedIP(ns, 'public', { issuerRef: { name: 'aws' }, serviceRef: { name: 'ingress-nginx' } }));
    const rip = await run.ready('public');
    t.equal(await holderOf(rip.status.address), instances.get(rip.status.node), 'moto agrees with the status');
    t.same(rip.status.firewall.ports, [{ protocol: 'tcp', port: 443 }]);
  });

  t.test('the holder Node goes NotReady: the Elastic IP moves', async (t) => {
    const before = await run.routedIP('public');
    const holder = before.status.node as string;
    const changed = Date.now();
    await run.setNodeReady(holder, false);
    const after = await run.ready('public', (n) => n !== undefined && n !== holder);
    t.comment(`failover (AWS on moto): Node ${holder} NotReady → RoutedIP Ready on ${after.status.node} in ${Date.now() - changed} ms`);
    t.equal(await holderOf(after.status.address), instances.get(after.status.node), 'moto agrees with the status');
  });

  t.test('Delete: finalized and the Elastic IP released', async (t) => {
    const rip = await run.routedIP('public');
    await run.deleteAndWait('RoutedIP', 'public');
    t.notOk((await allAddresses()).some((a) => a.publicIp === rip.status.address), 'released');
  });
}
