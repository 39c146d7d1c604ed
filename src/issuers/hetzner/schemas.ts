/**
 * The few Hetzner Cloud API resources the issuer reads, as TypeBox schemas: each answer is
 * checked against them before use, so a changed or broken answer becomes a clear condition
 * instead of a crash. Only the fields the issuer relies on are declared; the others (and
 * unknown future fields) are allowed and left as they are — Firewall rules in particular are
 * sent back exactly as read.
 */
import { Type, type Static } from '@sinclair/typebox';

const Id = Type.Integer({ minimum: 1 });

/** `location` (only its name is used). */
export const HLocationSchema = Type.Object({ name: Type.String() });

/** `server`: where a Kubernetes node runs. */
export const HServerSchema = Type.Object({ id: Id, name: Type.String(), location: HLocationSchema });
export type HServer = Static<typeof HServerSchema>;

/** `floating_ip`. `server` changes only once an assign/unassign action finished. */
export const HFloatingIPSchema = Type.Object({
  id: Id,
  ip: Type.String(),
  name: Type.String(),
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  type: Type.String(),
  server: Type.Union([Id, Type.Null()]),
  home_location: HLocationSchema,
  labels: Type.Record(Type.String(), Type.String()),
  protection: Type.Object({ delete: Type.Boolean() }),
});
export type HFloatingIP = Static<typeof HFloatingIPSchema>;

/** `action`: the result of an asynchronous request. */
export const HActionSchema = Type.Object({
  id: Id,
  command: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('success'), Type.Literal('error')]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  resources: Type.Array(Type.Object({ id: Id, type: Type.String() })),
});
export type HAction = Static<typeof HActionSchema>;

/** A Firewall rule. Rules read are written back unchanged (byte for byte), so nothing is stripped. */
export const HRuleSchema = Type.Object({
  direction: Type.String(),
  protocol: Type.String(),
  port: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  source_ips: Type.Optional(Type.Array(Type.String())),
  destination_ips: Type.Optional(Type.Array(Type.String())),
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type HRule = Static<typeof HRuleSchema>;

const ServerRef = Type.Object({ id: Id });

/** What a Firewall is applied to: servers, and label selectors with the servers they match. */
export const HFirewallResourceSchema = Type.Object({
  type: Type.String(),
  server: Type.Optional(ServerRef),
  label_selector: Type.Optional(Type.Object({ selector: Type.String() })),
  applied_to_resources: Type.Optional(Type.Array(Type.Object({ type: Type.String(), server: Type.Optional(ServerRef) }))),
});

/** `firewall`. */
export const HFirewallSchema = Type.Object({
  id: Id,
  name: Type.String(),
  rules: Type.Array(HRuleSchema),
  applied_to: Type.Array(HFirewallResourceSchema),
});
export type HFirewall = Static<typeof HFirewallSchema>;

/** List metadata: only the next page is followed. */
export const HMetaSchema = Type.Object({ pagination: Type.Object({ next_page: Type.Union([Type.Integer(), Type.Null()]) }) });

/** The error envelope of every failed request. */
export const HErrorSchema = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });
