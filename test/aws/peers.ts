/**
 * The two EC2 peers the AWS tests run against, behind one shape: the wire-level fake
 * (`test/fakes/ec2`) and moto's server. Both are driven by the real SDK client; setup and
 * inspection go through an admin client so a scenario reads the same on either peer.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { Test } from 'tap';
import { FakeEc2, type FakeEc2ServerOptions } from '../fakes/ec2/server.js';
import { motoAvailable, motoRequired, startMoto } from './moto.js';

export const REGION = 'us-east-1';
/** Credentials every test uses; the secret must never show up in a log, status or error. */
export const ACCESS_KEY_ID = 'AKIDROUTEDIPTEST';
export const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI-routedip-secret-never-logged';

/** One EC2 peer. */
export interface Ec2Peer {
  readonly name: 'fake' | 'moto';
  readonly endpoint: string;
  /** Admin client for setup and inspection (not the issuer's). */
  readonly admin: EC2Client;
  /** The fake itself, for fault injection; undefined on moto. */
  readonly fake?: FakeEc2;
  reset(): Promise<void>;
}

/** Anything with tap's teardown. */
interface Teardown {
  teardown(fn: () => unknown): void;
}

const adminClient = (endpoint: string) =>
  new EC2Client({ region: REGION, endpoint, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }, maxAttempts: 1 });

/** Starts the fake for a test file (closed at teardown). */
export async function fakePeer(t: Teardown, options: FakeEc2ServerOptions = { acceptedAccessKeyIds: [ACCESS_KEY_ID] }): Promise<Ec2Peer> {
  const fake = new FakeEc2(options);
  const endpoint = await fake.start();
  const admin = adminClient(endpoint);
  t.teardown(async () => {
    admin.destroy();
    await fake.close();
  });
  return { name: 'fake', endpoint, admin, fake, reset: async () => fake.reset() };
}

/**
 * Starts moto for a test file, or returns the reason to skip (never in CI: there a missing
 * moto throws, failing the suite).
 */
export async function motoPeer(t: Teardown): Promise<Ec2Peer | { skip: string }> {
  const available = motoAvailable();
  if (!available.ok) {
    if (motoRequired()) throw new Error(`CI=true but ${available.reason}`);
    return { skip: available.reason };
  }
  const moto = await startMoto();
  const admin = adminClient(moto.endpoint);
  t.teardown(async () => {
    admin.destroy();
    await moto.stop();
  });
  return { name: 'moto', endpoint: moto.endpoint, admin, reset: moto.reset };
}

/**
 * Registers a scenario suite on moto: skipped (as one test named `name`) only off CI when moto is
 * not installed; with CI=true a missing moto fails the file.
 */
export function onMoto(t: Test, name: string, register: (peer: () => Ec2Peer) => void): void {
  const available = motoAvailable();
  if (!available.ok && !motoRequired()) {
    t.test(name, { skip: available.reason }, async () => {});
    return;
  }
  let peer: Ec2Peer | undefined;
  t.before(async () => {
    const started = await motoPeer(t);
    if ('skip' in started) throw new Error(started.skip);
    peer = started;
  });
  register(() => peer as Ec2Peer);
}
