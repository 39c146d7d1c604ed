/**
 * The processes the e2e harness starts: each one's output goes to its own log file, and `stop`
 * ends exactly that process (by its pid: SIGTERM, then SIGKILL after a grace period). Nothing
 * here ever signals a process it did not start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A running child process. */
export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
  /** Resolves when the process has exited (with its code or signal). */
  readonly exited: Promise<string>;
  /** True while the process runs. */
  running(): boolean;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** The last `bytes` of its log (for failure reports). */
  tail(bytes?: number): string;
}

/** Starts `command` with its output in `<logDir>/<name>.log`. */
export function start(name: string, command: string, args: string[], options: { logDir: string; env?: NodeJS.ProcessEnv; cwd?: string }): Started {
  const log = path.join(options.logDir, `${name}.log`);
  const out = createWriteStream(log);
  const child: ChildProcess = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`failed to start: ${err.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit ${code}`));
  });
  void exited.then(() => out.end());
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  return {
    name,
    pid: child.pid ?? -1,
    log,
    exited,
    running,
    async stop(graceMs = 10_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done && running()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    tail(bytes = 3000) {
      try {
        const text = readFileSync(log, 'utf8');
        return text.slice(-bytes);
      } catch {
        return '';
      }
    },
  };
}

/**
 * A loopback port free right now. etcd and kube-apiserver cannot report a port they chose
 * themselves, so the harness picks one this way and retries a start that lost the race.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `probe` every `everyMs` until it returns a value, the process dies, or `timeoutMs` passes. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, options: { timeoutMs: number; everyMs?: number; process?: Started }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (options.process && !options.process.running()) {
      throw new Error(`${options.process.name} exited while waiting for ${what}; its log ends:\n${options.process.tail()}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await sleep(options.everyMs ?? 200);
  }
}
