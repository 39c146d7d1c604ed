/**
 * What every scripted hook-test world shares: it plays Metacontroller for one RoutedIP —
 * POST /sync or /finalize with the world's request, and feed the answered status back into the
 * parent the way Metacontroller writes it — and the loops tests repeat (until Ready, until
 * finalized). A cloud's world supplies the request and the app.
 */
import type { FastifyInstance } from 'fastify';
import type { SyncRequest } from '../../src/schemas/metacontroller.js';
import type { RoutedIPObject, RoutedIPStatus } from '../../src/schemas/routed-ip.js';
import { finalize, sync, type HookAnswer } from './app.js';

/** The condition `type` of a status. */
export const condition = (status: RoutedIPStatus | undefined, type: string) => status?.conditions.find((c) => c.type === type);

/** A RoutedIP driven through the app as Metacontroller would. */
export abstract class HookWorld {
  abstract parent: RoutedIPObject;
  abstract app: FastifyInstance;

  /** The hook request for the current world. */
  abstract request(): SyncRequest;

  /** POST /sync and feed the answered status back into the parent, as Metacontroller would. */
  async sync(): Promise<HookAnswer> {
    const answer = await sync(this.app, this.request());
    if (answer.statusCode === 200) this.parent = { ...this.parent, status: answer.body.status };
    return answer;
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
