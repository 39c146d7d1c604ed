/**
 * The /sync payloads `npm run bench` posts: realistic Nodes (test/bench/payload.ts), the memory
 * issuer, an ingress Service with endpoints on three Nodes, `siblings` other RoutedIPs of the
 * issuer delivered as related objects, and the parent's status as the service answered it
 * (so every timed sync is a converged one, as Metacontroller's resyncs are).
 */
import type { FastifyInstance } from 'fastify';
import type { SyncRequest } from '../../src/schemas/metacontroller.js';
import type { RoutedIPObject } from '../../src/schemas/routed-ip.js';
import { ingressRequest, routedIP } from '../fixtures/k8s.js';
import { realisticNode } from './payload.js';

/** The request before convergence. */
export function benchRequest(nodes: number, siblings = 0): SyncRequest {
  const all = Array.from({ length: nodes }, (_, i) => realisticNode(i));
  const names = all.map((n) => n.metadata.name);
  const others: RoutedIPObject[] = Array.from({ length: siblings }, (_, i) => routedIP(`sibling-${i}`, { serviceRef: { name: 'ingress-nginx' } }));
  return ingressRequest(
    { parent: routedIP('public', { serviceRef: { name: 'ingress-nginx' } }), issuerSpec: { memory: {} }, nodes: all, ports: [80, 443], endpointsOn: names.slice(0, 3) },
    { routedIPs: others },
  );
}

/** `request` with the parent's (and each sibling's) status as a converged sync answers it. */
export async function converged(request: SyncRequest, post: (body: string) => Promise<string>): Promise<string> {
  let req = request;
  for (let i = 0; i < 3; i++) {
    const answer = JSON.parse(await post(JSON.stringify(req))) as { status: object };
    req = { ...req, parent: { ...req.parent, status: answer.status } };
  }
  return JSON.stringify(req);
}

/** `post` over `inject` on an in-process app. */
export const injector = (app: FastifyInstance) => async (body: string) =>
  (await app.inject({ method: 'POST', url: '/sync', payload: body, headers: { 'content-type': 'application/json' } })).payload;

/** `post` over HTTP to a running server. */
export const poster = (url: string) => async (body: string) => {
  const res = await fetch(`${url}/sync`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return res.text();
};
