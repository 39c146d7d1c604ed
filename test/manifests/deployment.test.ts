/**
 * `kubectl kustomize manifests` builds the whole install, and what it builds is the hardened
 * webhook the service's config contract expects; the Dockerfile is checked the same way.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BlockList, isIPv6 } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { readDoc, readDocs, repoRoot, type Json } from './k8s-schema.js';

/**
 * How to build a kustomization here: `kubectl kustomize`, else a standalone `kustomize build`
 * (`$KUSTOMIZE`, or `kustomize` on PATH: `go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0`
 * gives the same kustomize kubectl 1.32 embeds). Undefined when neither runs.
 */
function kustomizeCommand(): string[] | undefined {
  const runs = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
  if (runs('kubectl', ['version', '--client'])) return ['kubectl', 'kustomize'];
  const standalone = process.env.KUSTOMIZE || 'kustomize';
  if (runs(standalone, ['version'])) return [standalone, 'build'];
  return undefined;
}
const kustomize = kustomizeCommand();
if (!kustomize && process.env.CI === 'true') t.fail('kubectl (or kustomize) is required in CI to build the manifests');

t.test('kubectl kustomize manifests yields the whole install', { skip: !kustomize && 'neither kubectl nor kustomize is installed' }, async (t) => {
  const [cmd, ...args] = kustomize ?? [];
  const built = spawnSync(cmd as string, [...args, path.join(repoRoot, 'manifests')], { encoding: 'utf8' });
  t.equal(built.status, 0, built.stderr);
  const objects = parseAllDocuments(built.stdout).map((d) => d.toJS() as Json);
  const ids = objects.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`).sort();
  t.same(ids, [
    'ClusterRole/routedip-metacontroller',
    'ClusterRoleBinding/routedip-metacontroller',
    'CompositeController/routedip',
    'CompositeController/routedip-clusterissuers',
    'CompositeController/routedip-issuers',
    'CustomResourceDefinition/clusterroutedipissuers.routedip.io',
    'CustomResourceDefinition/routedipissuers.routedip.io',
    'CustomResourceDefinition/routedips.routedip.io',
    'DecoratorController/routedip-nodes',
    'DecoratorController/routedip-secrets',
    'DecoratorController/routedip-services',
    'Deployment/routedip-system/routedip-webhook',
    'Namespace/routedip-system',
    'NetworkPolicy/routedip-system/routedip-webhook',
    'PodDisruptionBudget/routedip-system/routedip-webhook',
    'Service/routedip-system/routedip-webhook',
    'ServiceAccount/routedip-system/routedip-webhook',
  ]);
  t.notOk(objects.some((o) => o.kind === 'Secret'), 'no token is shipped in the install');
  const named = (name: string) => objects.find((o) => o.metadata.name === name);
  t.same(named('routedips.routedip.io'), readDoc('manifests/crds/routedips.yaml', 'CustomResourceDefinition'), 'CRDs pass through unchanged');
  t.same(named('routedipissuers.routedip.io'), readDoc('manifests/crds/routedipissuers.yaml', 'CustomResourceDefinition'));
  t.same(named('routedip'), readDoc('metacontroller/compositecontroller.yaml', 'CompositeController'), 'no namespace stamped on the cluster-scoped controller');
});

t.test('the Deployment is hardened and matches the service config contract', async (t) => {
  const deployment = readDoc('manifests/deploy/deployment.yaml', 'Deployment');
  t.equal(deployment.spec.replicas, 2);
  const pod = deployment.spec.template.spec;
  t.equal(pod.automountServiceAccountToken, false);
  t.match(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  t.ok(pod.securityContext.runAsUser > 0, 'numeric non-root user');
  const [container] = pod.containers;
  t.equal(container.image, 'ghcr.io/routedip/routedip-operator:0.1.0');
  t.match(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  t.ok(container.resources.requests && container.resources.limits, 'resources set');
  t.same(container.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  t.match(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
  t.match(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
  const env = Object.fromEntries((container.env as Json[]).map((e) => [e.name, e]));
  t.equal(env.LOG_LEVEL?.value, 'info');
  t.equal(env.PORT?.value, '8080');
  t.same(env.HOOK_TOKEN?.valueFrom, { secretKeyRef: { name: 'routedip-hook-token', key: 'token', optional: true } });
  const labels = deployment.spec.selector.matchLabels;
  t.match(deployment.spec.template.metadata.labels, labels);

  const sa = readDoc('manifests/deploy/serviceaccount.yaml', 'ServiceAccount');
  t.equal(pod.serviceAccountName, sa.metadata.name);
  t.equal(sa.automountServiceAccountToken, false);
  const service = readDoc('manifests/deploy/service.yaml', 'Service');
  t.same(service.spec.selector, labels);
  t.match(service.spec.ports, [{ port: 80, targetPort: 'http' }]);
  const pdb = readDoc('manifests/deploy/poddisruptionbudget.yaml', 'PodDisruptionBudget');
  t.same(pdb.spec.selector.matchLabels, labels);
  t.ok(pdb.spec.minAvailable < deployment.spec.replicas, 'a drain can still evict one replica');
});

/**
 * Whether `policy`'s egress lets a pod reach `address` on `protocol`/`port`, by the NetworkPolicy
 * rules: a rule admits when one of its peers admits the address (no `to` = anywhere; an ipBlock
 * admits its CIDR minus `except`) and one of its ports matches (no `ports` = every port).
 */
function egressAllows(policy: Json, address: string, protocol: 'TCP' | 'UDP', port: number): boolean {
  const family = isIPv6(address) ? 'ipv6' : 'ipv4';
  const inBlock = (cidr: string, except: string[] = []): boolean => {
    const contains = (c: string) => {
      const [net = '', bits = ''] = c.split('/');
      if (isIPv6(net) !== (family === 'ipv6')) return false;
      const list = new BlockList();
      list.addSubnet(net, Number(bits), family);
      return list.check(address, family);
    };
    return contains(cidr) && !except.some(contains);
  };
  return (policy.spec.egress as Json[]).some((rule) => {
    const peerOk = rule.to === undefined || (rule.to as Json[]).some((peer) => peer.ipBlock !== undefined && inBlock(peer.ipBlock.cidr, peer.ipBlock.except));
    const portOk = rule.ports === undefined || (rule.ports as Json[]).some((p) => (p.protocol ?? 'TCP') === protocol && p.port === port);
    return peerOk && portOk;
  });
}

t.test('the NetworkPolicy admits only Metacontroller; lets out DNS, HTTPS, and HTTP to the AWS credential endpoints only', async (t) => {
  const np = readDoc('manifests/deploy/networkpolicy.yaml', 'NetworkPolicy');
  const deployment = readDoc('manifests/deploy/deployment.yaml', 'Deployment');
  t.same(np.spec.podSelector.matchLabels, deployment.spec.selector.matchLabels);
  t.same(np.spec.policyTypes, ['Ingress', 'Egress']);
  t.same(np.spec.ingress, [
    { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'metacontroller' } }, podSelector: {} }], ports: [{ protocol: 'TCP', port: 8080 }] },
  ]);
  for (const [address, protocol, port] of [['10.100.0.10', 'UDP', 53], ['10.100.0.10', 'TCP', 53], ['52.94.0.1', 'TCP', 443], ['2600:1f18::1', 'TCP', 443]] as const) {
    t.ok(egressAllows(np, address, protocol, port), `${protocol} ${address}:${port} (DNS, cloud APIs)`);
  }
  // Issue 8 item 5: the EKS Pod Identity agent (IPv4 and IPv6, EKS user guide "Set up the
  // Amazon EKS Pod Identity Agent") and IMDS (the instance role) answer plain HTTP on port 80.
  for (const address of ['169.254.170.23', 'fd00:ec2::23', '169.254.169.254', 'fd00:ec2::254']) {
    t.ok(egressAllows(np, address, 'TCP', 80), `TCP ${address}:80 (AWS credentials)`);
  }
  for (const [address, port] of [['169.254.170.22', 80], ['169.254.169.253', 80], ['fd00:ec2::24', 80], ['10.0.0.1', 80], ['52.94.0.1', 80], ['169.254.170.23', 8080], ['52.94.0.1', 22]] as const) {
    t.notOk(egressAllows(np, address, 'TCP', port), `nothing else: TCP ${address}:${port}`);
  }
});

t.test('the pod leaves the AWS credentials injection to the EKS pod identity webhook (issue 8 item 5)', async (t) => {
  // The webhook (amazon-eks-pod-identity-webhook pkg/handler/handler.go) adds its projected token
  // volume and env whatever automountServiceAccountToken says, but skips the volume when one of
  // that name exists and the env when those variables are set: the pod must declare neither.
  const deployment = readDoc('manifests/deploy/deployment.yaml', 'Deployment');
  const pod = deployment.spec.template.spec;
  t.equal(pod.automountServiceAccountToken, false, 'no Kubernetes API token (the service never calls the API)');
  const volumes = (pod.volumes ?? []).map((v: Json) => v.name);
  for (const name of ['aws-iam-token', 'eks-pod-identity-token']) t.notOk(volumes.includes(name), `no ${name} volume of our own`);
  const injected = ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'];
  for (const c of pod.containers as Json[]) {
    const env = (c.env ?? []).map((e: Json) => e.name);
    t.same(env.filter((n: string) => injected.includes(n)), [], `${c.name}: no injected variable preset`);
    t.notOk((c.volumeMounts ?? []).some((m: Json) => String(m.mountPath).startsWith('/var/run/secrets/')), `${c.name}: nothing mounted where the tokens go`);
  }
  t.type(pod.securityContext.runAsUser, 'number', 'runAsUser set: the projected token file is owned by that user (KEP 1598), so the non-root process can read it');
  const sa = readDoc('manifests/deploy/serviceaccount.yaml', 'ServiceAccount');
  t.equal(sa.metadata.name, pod.serviceAccountName, 'the ServiceAccount the guide says to annotate');
});

t.test('the hook-token Secret is an example, with the name and key the hooks use', async (t) => {
  const [secret] = readDocs('manifests/deploy/hook-token-secret.example.yaml');
  t.match(secret, { kind: 'Secret', metadata: { name: 'routedip-hook-token', namespace: 'routedip-system' } });
  t.ok('token' in secret.stringData);
  const kustomization = readFileSync(path.join(repoRoot, 'manifests/deploy/kustomization.yaml'), 'utf8');
  t.notMatch(kustomization, /^\s*-\s*hook-token-secret/m, 'not part of the install');
});

t.test('the Dockerfile builds with dev deps and runs production deps as a non-root user', async (t) => {
  const lines = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const froms = lines.filter((l) => l.startsWith('FROM '));
  t.equal(froms.length, 2, 'multi-stage');
  const runtime = lines.slice(lines.indexOf(froms[1] as string));
  const build = lines.slice(0, lines.indexOf(froms[1] as string));
  t.ok(build.some((l) => /^RUN npm ci\b/.test(l) && !l.includes('--omit=dev')), 'build stage installs dev dependencies');
  t.ok(build.some((l) => l === 'RUN npm run build'), 'build stage compiles');
  t.ok(runtime.some((l) => /^RUN npm ci\b.*--omit=dev/.test(l)), 'runtime installs production dependencies only');
  t.ok(runtime.some((l) => /^COPY --from=build \/app\/dist/.test(l)), 'runtime takes the compiled output');
  const users = runtime.filter((l) => l.startsWith('USER '));
  t.equal(users.length, 1);
  t.notMatch(users[0], /^USER (root|0)(:|$)/, 'non-root');
  t.ok(runtime.some((l) => l === 'ENV NODE_ENV=production'));
  t.ok(runtime.some((l) => l === 'EXPOSE 8080'));
  const cmd = runtime.at(-1) ?? '';
  t.same(JSON.parse(cmd.replace(/^CMD /, '')), ['node', 'dist/server.js']);
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  t.equal(pkg.scripts.start, 'node dist/server.js', 'CMD is what npm start runs');
  const ignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['node_modules', 'dist', '.git', 'test']) t.ok(ignore.includes(entry), `.dockerignore has ${entry}`);
});
