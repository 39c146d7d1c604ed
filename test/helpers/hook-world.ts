/**
 * What every scripted hook-test world shares: it plays Metacontroller for one RoutedIP —
 * POST /sync or /finalize with the world's request, and feed the answered status back into the
 * parent the way Metacontroller writes it — and the loops tests repeat (until Ready, until
 * finalized). A cloud's world supplies the request and the app.
 */
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import type { SyncRequest } from '../../src/schemas/metacontroller.js';
import type { Node, Secret } from '../../src/schemas/kubernetes.js';
import type { RoutedIPIssuerSpec, RoutedIPObject, RoutedIPStatus } from '../../src/schemas/routed-ip.js';
import { ingressRequest, type World } from '../fixtures/k8s.js';
import { finalize, sync, syncSettled, type HookAnswer } from './app.js';

/** The condition `type` of a status. */
export const condition = (status: RoutedIPStatus | undefined, type: string) => status?.conditions.find((c) => c.type === type);

/** A RoutedIP driven through the app as Metacontroller would. */
export abstract class HookWorld {
  abstract parent: RoutedIPObject;
  abstract app: FastifyInstance;

  /** The hook request for the current world. */
  abstract request(): SyncRequest;

  /** POST /sync once and feed the answered status back into the parent, as Metacontroller would. */
  async syncOnce(): Promise<HookAnswer> {
    const answer = await sync(this.app, this.request());
    if (answer.statusCode === 200) this.parent = { ...this.parent, status: answer.body.status };
    return answer;
  }

  /** `syncOnce`, repeated while an answer only recorded a firewall claim (see `syncSettled`). */
  sync(): Promise<HookAnswer & { claims: number }> {
    return syncSettled(() => this.syncOnce());
  }

  /** Syncs until Ready=True (at most `max` calls); returns every answer. */
  async syncUntilReady(max = 8): Promise<HookAnswer[]> {
    const answers: HookAnswer[] = [];
    for (let i = 0; i < max; i++) {
      const a = await this.sync();
      answers.push(a);
      if (a.statusCode === 200 && condition(a.body.status, 'Ready')?.status === 'True') return answers;
    }
    throw new Error(`not Ready after ${max} syncs: ${JSON.stringify(this.parent.status)}`);
  }

  /** POST /finalize (deletionTimestamp set) and feed the status back. */
  async finalize(): Promise<HookAnswer> {
    this.parent = { ...this.parent, metadata: { ...this.parent.metadata, deletionTimestamp: '2026-11-23T12:00:00Z' } };
    const answer = await finalize(this.app, this.request());
    if (answer.statusCode === 200) this.parent = { ...this.parent, status: answer.body.status };
    return answer;
  }

  /** Finalizes until `finalized: true` (at most `max` calls); returns every answer. */
  async finalizeUntilDone(max = 8): Promise<HookAnswer[]> {
    const answers: HookAnswer[] = [];
    for (let i = 0; i < max; i++) {
      const a = await this.finalize();
      answers.push(a);
      if (a.body.finalized === true) return answers;
    }
    return answers;
  }

  /** Current status. */
  get status(): RoutedIPStatus {
    return this.parent.status as RoutedIPStatus;
  }
}

/** The firewall every cloud world's issuer names. */
export const WORLD_FIREWALL = 'ingress-public';

/**
 * A cloud world's cluster: nodes, an ingress Service with endpoints, the credentials Secret and
 * one issuer naming `WORLD_FIREWALL`. A cloud supplies its provider block and which RoutedIPs
 * are delivered as related objects; the issuer spec and the hook request are built here, once.
 */
export abstract class IngressHookWorld extends HookWorld {
  abstract nodes: Node[];
  ports: number[] = [80, 443];
  endpointsOn: string[] = ['n1', 'n2', 'n3'];
  abstract secrets: Secret[];
  policy: 'Retain' | 'Delete' = 'Delete';
  /** `firewallSourceRanges` (absent: the default, the whole world). */
  sources?: string[];
  /** `spec.address` to adopt. */
  address?: string;

  /** The issuer's provider block (`{ digitalocean: … }`) and any provider-specific spec field. */
  protected abstract providerSpec(): Partial<RoutedIPIssuerSpec>;

  /** RoutedIPs delivered as related objects, given this world's parent as the request carries it. */
  protected abstract relatedRoutedIPs(parent: RoutedIPObject): RoutedIPObject[];

  /** The issuer spec for the current settings. */
  issuerSpec(): RoutedIPIssuerSpec {
    return {
      routedIPReclaimPolicy: this.policy,
      routedIPFirewallName: WORLD_FIREWALL,
      ...(this.sources ? { firewallSourceRanges: this.sources } : {}),
      ...this.providerSpec(),
    };
  }

  /** The hook request for the current world. */
  request(extra: Partial<World> = {}): SyncRequest {
    const parent: RoutedIPObject = this.address ? { ...this.parent, spec: { ...this.parent.spec!, address: this.address } } : this.parent;
    return ingressRequest(
      { parent, issuerSpec: this.issuerSpec(), nodes: this.nodes, ports: this.ports, endpointsOn: this.endpointsOn },
      { secrets: this.secrets, routedIPs: this.relatedRoutedIPs(parent), ...extra },
    );
  }
}

/**
 * A slow API for a sync that must outlast its deadline (`deadline`, ms since epoch), shaped so a
 * request is surely in flight across the deadline whatever the machine's load: requests take
 * `typicalMs`, but none is answered between `marginMs` before the latest start of the one that
 * spans the deadline and `marginMs` after the deadline. The ones arriving early enough are answered
 * by that start at the latest; the one arriving after it is held until `marginMs` after the
 * deadline, which is at most `longestMs` (keep it under the client's request timeout, so the
 * client's own timeout never fires first). A fixed latency cannot promise this: the first
 * request's start (cold code, first-call work) and the gaps between requests move every request
 * boundary later on a loaded machine, until one lands on the deadline (a read answered just before
 * it and the next one refused by the deadline, or the answer and the abort in one turn of a
 * lagging event loop): then no request is in flight to abort. Requests after the deadline (a
 * later sync) take `typicalMs`.
 */
export function slowAcrossDeadline(deadline: number, { typicalMs, longestMs, marginMs }: { typicalMs: number; longestMs: number; marginMs: number }): (arrivedAt: number) => number {
  const spanStart = deadline + marginMs - longestMs;
  return (at) => {
    if (at > deadline) return typicalMs;
    if (at >= spanStart) return deadline + marginMs - at;
    return Math.min(typicalMs, spanStart - at);
  };
}

/**
 * The checks of a sync cut short by its deadline against a slow fake: answered 200 with
 * DeadlineExceeded and a resync, and the request in flight at the deadline aborted (the fake
 * notices the closed connection a moment after the in-process answer, so this waits for it,
 * bounded). `fake.abandoned` counts the requests whose client left before the answer.
 */
export async function checkStoppedAtDeadline(t: Test, answer: HookAnswer, status: RoutedIPStatus | undefined, fake: { readonly abandoned: number }): Promise<void> {
  t.equal(answer.statusCode, 200);
  t.match(condition(status, 'Ready'), { status: 'False', reason: 'DeadlineExceeded' });
  t.ok((answer.body.resyncAfterSeconds ?? 0) > 0, 'asks to be called again');
  for (let i = 0; i < 100 && fake.abandoned === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(fake.abandoned >= 1, `the request in flight at the deadline was aborted (${fake.abandoned})`);
}
