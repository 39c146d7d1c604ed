/**
 * Starts moto's EC2 server (`python3 -m moto.server`) on a free loopback port for a test file,
 * and stops that process (by its own pid) at teardown. Absent moto is a skip on a developer
 * machine and a failure in CI (`CI=true`), so CI can never pass without the second peer.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const PYTHON = process.env.PYTHON ?? 'python3';

/** Whether `moto.server` can be imported; the reason when it cannot. */
export function motoAvailable(): { ok: true } | { ok: false; reason: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import moto.server, flask'], { encoding: 'utf8' });
  if (probe.status === 0) return { ok: true };
  return { ok: false, reason: `moto[server] is not importable by ${PYTHON} (install it with: pip install "moto[server]")` };
}

/** True when moto suites must run (CI), false when they may be skipped. */
export const motoRequired = (): boolean => process.env.CI === 'true';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A running moto server. */
export interface MotoServer {
  readonly endpoint: string;
  /** `POST /moto-api/reset`: every backend back to its initial state. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts moto and waits (at most `timeoutMs`) until it answers. */
export async function startMoto(timeoutMs = 30_000): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(PYTHON, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const reset = async () => {
    const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${stderr}`);
    try {
      await reset();
      return { endpoint, reset, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`moto did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
