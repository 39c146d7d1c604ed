/**
 * A hostile cloud: answers every request with an error whose text echoes what it received —
 * the request line, every header (Authorization included) and the body — in the wire format of
 * the DigitalOcean API (JSON `{id, message}`), of Hetzner Cloud (JSON `{error: {code, message}}`)
 * or of EC2 (the XML error envelope). Pointing an
 * issuer's `endpoint` at it proves that nothing a cloud sends back can carry our credentials
 * into status, logs or metrics. Listens on 127.0.0.1, port 0.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the echo is wrapped. */
export type EchoFlavour = 'digitalocean' | 'hetzner' | 'aws';

/** Where the echo goes and which answer carries it (varied by the abuse suite). */
export interface EchoAnswer {
  /** HTTP status (DigitalOcean: 401, 403, 404, 422, 500…; EC2: 400, 401, 403, 500…). */
  readonly status: number;
  /** EC2's `<Code>`, Hetzner's `error.code`; `{echo}` is replaced by the echoed text. */
  readonly code?: string;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A running echoing cloud. */
export class EchoCloud {
  readonly #server: Server;
  /** Answer used for the next requests (tests change it between calls). */
  answer: EchoAnswer;
  /** Requests seen (method and path), for asserting the issuer did call it. */
  readonly seen: string[] = [];

  constructor(readonly flavour: EchoFlavour, answer?: EchoAnswer) {
    this.answer = answer ?? (flavour === 'aws' ? { status: 400, code: 'InvalidParameterValue' } : { status: 422 });
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  /** `http://127.0.0.1:<port>`. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    this.seen.push(`${req.method} ${req.url}`);
    // Credentials first, so that even a message cut short still carries them.
    const h = req.headers;
    const raw = (v: unknown) => (typeof v === 'string' ? v : '');
    const auth = raw(h.authorization);
    const echo = `you sent ${auth} ${raw(h['x-amz-security-token'])} ${auth.replace(/^Bearer\s+/i, '')} ${Buffer.from(auth.replace(/^Bearer\s+/i, '')).toString('base64')} ${req.method} ${req.url} headers ${JSON.stringify(h)} body ${Buffer.concat(chunks).toString('utf8')}`;
    const { status, code } = this.answer;
    if (this.flavour === 'hetzner') {
      const body = { error: { code: (code ?? 'invalid_input').replace('{echo}', echo), message: echo, details: null } };
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (this.flavour === 'digitalocean') {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'unprocessable_entity', message: echo }));
      return;
    }
    const theCode = (code ?? 'InvalidParameterValue').replace('{echo}', echo);
    res
      .writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' })
      .end(`<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xml(theCode)}</Code><Message>${xml(echo)}</Message></Error></Errors><RequestID>${xml(String(req.headers.authorization ?? ''))}</RequestID></Response>`);
  }
}

/** Starts an echoing cloud, closed at teardown. */
export async function startEchoCloud(t: { teardown(fn: () => unknown): void }, flavour: EchoFlavour, answer?: EchoAnswer): Promise<EchoCloud> {
  const cloud = await new EchoCloud(flavour, answer).start();
  t.teardown(() => cloud.close());
  return cloud;
}
