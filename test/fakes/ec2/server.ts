/**
 * A wire-level fake of EC2 on loopback: the form-encoded query protocol in, XML out (success
 * documents and the error envelope), stateful (`Ec2State`), with a call log and fault injection.
 * The real `@aws-sdk/client-ec2` talks to it through `endpoint`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addressActions } from './actions-addresses.js';
import { groupActions } from './actions-groups.js';
import { instanceActions } from './actions-instances.js';
import { Ec2Fault, QueryParams } from './query.js';
import { Ec2State, type FakeEc2Options } from './state.js';
import { errorDocument, successDocument, type XmlNode } from './xml.js';

const ACTIONS: Record<string, (state: Ec2State, p: QueryParams) => XmlNode> = { ...addressActions, ...instanceActions, ...groupActions };

/** One request as the fake saw it. `outcome` is `ok`, an error code, or `lost`. */
export interface Ec2Call {
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  readonly outcome: string;
  /** True for actions that change state (everything but Describe*). */
  readonly mutating: boolean;
}

/** A fault for the next matching calls. */
export interface Ec2FaultSpec {
  /** Error code to answer with (the action is not performed). Omit with `lostResponse`. */
  readonly code?: string;
  readonly status?: number;
  /** Perform the action, then destroy the socket: the client never sees the answer. */
  readonly lostResponse?: boolean;
  /** Never answer (the client's request timeout must fire). */
  readonly hang?: boolean;
  /** Perform the action at once, answer only after this many ms (a slow EC2). */
  readonly delayMs?: number;
  /** How many calls it applies to (default 1). */
  readonly times?: number;
}

/** Options: state behaviour plus the access key ids the fake accepts (others get AuthFailure). */
export interface FakeEc2ServerOptions extends FakeEc2Options {
  readonly acceptedAccessKeyIds?: readonly string[];
}

/** The fake server. */
export class FakeEc2 {
  state: Ec2State;
  readonly calls: Ec2Call[] = [];
  private readonly faults = new Map<string, Array<Ec2FaultSpec & { left: number }>>();
  private server?: Server;
  private requests = 0;
  /** Every call waits this long before it is handled (a slow EC2). */
  latencyMs = 0;
  /** Calls whose client closed the connection before the answer (an aborted request). */
  abandoned = 0;

  constructor(private readonly options: FakeEc2ServerOptions = {}) {
    this.state = new Ec2State(options);
  }

  /** Listens on 127.0.0.1 at a random port; resolves to the endpoint URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    // Longer than any pause a test makes (a slow answer, a loaded machine): Node's default 5 s
    // closes idle keep-alive sockets just as a client reuses them (ECONNRESET in the harness).
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('fake EC2 not started');
    return `http://127.0.0.1:${addr.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Fresh state and an empty log (the moto-api/reset equivalent). */
  reset(): void {
    this.state = new Ec2State(this.options);
    this.calls.length = 0;
    this.faults.clear();
  }

  /** Injects a fault into the next `times` calls of `action`. */
  fail(action: string, fault: Ec2FaultSpec): void {
    this.faults.set(action, [...(this.faults.get(action) ?? []), { ...fault, left: fault.times ?? 1 }]);
  }

  /** Drops every fault not used up yet. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Mutating calls, as `Action` names, in order. */
  writes(): string[] {
    return this.calls.filter((c) => c.mutating).map((c) => c.action);
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  private takeFault(action: string): Ec2FaultSpec | undefined {
    const queue = this.faults.get(action);
    const fault = queue?.[0];
    if (!queue || !fault) return undefined;
    fault.left -= 1;
    if (fault.left <= 0) queue.shift();
    return fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    res.on('close', () => {
      if (!res.writableFinished) this.abandoned += 1;
    });
    // A slow EC2 still performs a call whose client left meanwhile: a lost response.
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const params = QueryParams.parse(Buffer.concat(chunks).toString('utf8'));
    const action = params.get('Action') ?? '';
    const requestId = `00000000-0000-4000-8000-${(++this.requests).toString(16).padStart(12, '0')}`;
    const record = (outcome: string) =>
      this.calls.push({ action, params: Object.fromEntries(params.keys().filter((k) => k !== 'Action' && k !== 'Version').map((k) => [k, params.get(k) ?? ''])), outcome, mutating: !action.startsWith('Describe') });
    const reply = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(body);
    };
    try {
      if (req.method !== 'POST' || params.get('Version') !== '2016-11-15') throw new Ec2Fault('InvalidAction', 'Only POST with Version=2016-11-15 is served');
      const akid = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
      const accepted = this.options.acceptedAccessKeyIds;
      if (accepted && (akid === undefined || !accepted.includes(akid))) throw new Ec2Fault('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
      const handler = ACTIONS[action];
      if (!handler) throw new Ec2Fault('InvalidAction', `The action ${action} is not valid for this web service.`);
      const fault = this.takeFault(action);
      if (fault?.hang) {
        record('hang');
        return;
      }
      if (fault?.code) throw new Ec2Fault(fault.code, `injected ${fault.code}`, fault.status ?? 400);
      const body = handler(this.state, params);
      if (fault?.lostResponse) {
        record('lost');
        res.socket?.destroy();
        return;
      }
      record('ok');
      if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (res.destroyed) return;
      reply(200, successDocument(action, requestId, body));
    } catch (err) {
      const fault = err instanceof Ec2Fault ? err : new Ec2Fault('InternalError', 'An internal error has occurred', 500);
      record(fault.code);
      reply(fault.status, errorDocument(fault.code, fault.message, requestId));
    }
  }
}
