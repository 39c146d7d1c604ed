/**
 * The Hetzner host-configuration example (manifests/examples/floating-ip-hetzner.yaml): it parses,
 * has the RBAC and privileges it needs and no more, and its two scripts really feed the
 * RoutedIP's `status.address` onto the interface — run here with POSIX `sh` against stub
 * `kubectl` and `ip` commands that record what they were asked.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { readDocs, type Json } from './k8s-schema.js';

const docs = readDocs('manifests/examples/floating-ip-hetzner.yaml');
const ds = docs.find((d) => d.kind === 'DaemonSet');
const container = (name: string): Json => ds.spec.template.spec.containers.find((c: Json) => c.name === name);
const routedIP = readDocs('manifests/examples/routedip.yaml').find((d) => d.kind === 'RoutedIP');

t.test('the DaemonSet, its RBAC and the RoutedIP it reads agree', async (t) => {
  t.same(docs.map((d) => d.kind), ['ServiceAccount', 'Role', 'RoleBinding', 'DaemonSet']);
  const spec = ds.spec.template.spec;
  t.equal(spec.hostNetwork, true, 'configures the node, not a pod network namespace');
  t.same(spec.nodeSelector, routedIP.spec.nodeSelector.matchLabels, 'runs on the nodes the RoutedIP may elect');
  t.same(ds.spec.selector.matchLabels, ds.metadata.labels);
  const name = container('address').env.find((e: Json) => e.name === 'ROUTEDIP').value;
  t.equal(name, routedIP.metadata.name);
  const role = docs.find((d) => d.kind === 'Role');
  t.same(role.rules, [{ apiGroups: ['routedip.io'], resources: ['routedips'], resourceNames: [name], verbs: ['get'] }], 'reads that one RoutedIP only');
  t.equal(docs.find((d) => d.kind === 'RoleBinding').subjects[0].name, spec.serviceAccountName);
  t.same(container('configure').securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN'] });
  t.same(container('address').securityContext.capabilities, { drop: ['ALL'] });
});

/** A scratch dir with stub commands; `run` executes a container's script once there. */
function scratch() {
  const dir = mkdtempSync(path.join(tmpdir(), 'routedip-host-'));
  const bin = path.join(dir, 'bin');
  execFileSync('mkdir', ['-p', bin, path.join(dir, 'shared')]);
  const stub = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  // kubectl: records its arguments, answers the RoutedIP's status.address.
  stub('kubectl', `printf '%s\\n' "$*" >> "${dir}/kubectl.log"; cat "${dir}/status-address"`);
  // ip: keeps the interface's addresses in a file and records every change.
  stub('ip', [
    `state="${dir}/eth0"; touch "$state"`,
    'if [ "$1" = "-4" ]; then while read -r a; do printf "    inet %s scope global eth0\\n" "$a"; done < "$state"; exit 0; fi',
    `printf '%s\\n' "$*" >> "${dir}/ip.log"`,
    'if [ "$2" = "add" ]; then printf "%s\\n" "$3" >> "$state"; fi',
    'if [ "$2" = "del" ]; then grep -vx "$3" "$state" > "$state.new"; mv "$state.new" "$state"; fi',
  ].join('\n'));
  const run = (name: string, env: Record<string, string>) => {
    const script = (container(name).args[0] as string).replaceAll('/shared/', `${dir}/shared/`);
    execFileSync('sh', ['-c', script], { env: { PATH: `${bin}:/usr/bin:/bin`, ONCE: '1', ...env } });
  };
  const read = (file: string) => {
    try {
      return readFileSync(path.join(dir, file), 'utf8').trim().split('\n').filter((l) => l !== '');
    } catch {
      return [];
    }
  };
  return { dir, run, read, setStatus: (a: string) => writeFileSync(path.join(dir, 'status-address'), a), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

t.test('status.address feeds the interface: added once, moved when it changes, nothing while unset', async (t) => {
  const s = scratch();
  t.teardown(s.cleanup);
  const env = { NAMESPACE: 'ingress', ROUTEDIP: 'public', IFACE: 'eth0' };
  const cycle = () => {
    s.run('address', env);
    s.run('configure', env);
  };
  s.setStatus('');
  cycle();
  t.same(s.read('ip.log'), [], 'no address in status: nothing configured');
  t.same(s.read('kubectl.log'), ['-n ingress get routedip public -o jsonpath={.status.address}'], 'reads status.address of the RoutedIP');
  s.setStatus('198.51.100.10');
  cycle();
  cycle();
  t.same(s.read('ip.log'), ['addr add 198.51.100.10/32 dev eth0'], 'added once, then left alone');
  s.setStatus('198.51.100.11');
  cycle();
  t.same(s.read('ip.log').slice(1), ['addr del 198.51.100.10/32 dev eth0', 'addr add 198.51.100.11/32 dev eth0'], 'the old address goes, the new one comes');
  t.same(s.read('eth0'), ['198.51.100.11/32']);
  s.setStatus('not-an-ip; rm -rf /');
  cycle();
  t.same(s.read('eth0'), ['198.51.100.11/32'], 'garbage is ignored');
});
