/**
 * Metacontroller v2 DecoratorController hook requests and responses, shared by the Node,
 * Service and Secret decorators. The target arrives as `object` (not `parent`), the objects the
 * decorator made as `attachments`. As with the CompositeController, responses declare exactly the
 * fields Metacontroller's strict v2 decoder knows.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** A decorator sync/finalize request whose target is `object` and whose related groups are `related`. */
export const DecoratorRequest = <O extends TSchema, R extends TSchema>(object: O, related: R) =>
  Type.Object({
    controller: Type.Optional(Type.Unknown()),
    object,
    attachments: Type.Optional(Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()))),
    related: Type.Optional(related),
    finalizing: Type.Optional(Type.Boolean()),
  });

/** Label or annotation updates: a string sets the key, `null` deletes it, an absent key is left alone. */
export const StringUpdatesSchema = Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]));
export type StringUpdates = Static<typeof StringUpdatesSchema>;

/**
 * A decorator answer. No `status`: none of our decorators owns its target's status, and an
 * absent status means "leave it unchanged" to Metacontroller.
 */
export const DecoratorResponseSchema = Type.Object(
  {
    labels: Type.Optional(StringUpdatesSchema),
    annotations: Type.Optional(StringUpdatesSchema),
    attachments: Type.Array(Type.Unknown()),
    resyncAfterSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    finalized: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type DecoratorResponse = Static<typeof DecoratorResponseSchema>;

/** A customize request of any controller: the controller and its parent (the decorator's target). */
export const CustomizeFor = <P extends TSchema>(parent: P) =>
  Type.Object({ controller: Type.Optional(Type.Unknown()), parent });
