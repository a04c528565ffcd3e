/**
 * Outbox records -> Kafka records. Event ids are deterministic (derived from what happened, not
 * from when it was published), so a record published twice (crash after the broker ack but before
 * it was marked published, or two instances draining at once) carries the same CloudEvent id and
 * consumers drop the copy.
 */
import {
  CLOUDEVENTS_CONTENT_TYPE,
  type ContractIssue,
  ContractValidationError,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  HEADER_CONTENT_TYPE,
  HEADER_CORRELATION_ID,
  HEADER_TRACEPARENT,
  serializeEvent,
} from '@llmops/contracts';
import type { OutgoingMessage } from '@llmops/platform';
import type { UnpublishedAliasMove } from '../persistence/alias-move.repository';
import type { UnpublishedVersion } from '../persistence/prompt-version.repository';

export const versionEventId = (name: string, hash: string): string => `prompt-version/${name}/${hash}`;
export const aliasMoveEventId = (name: string, alias: string, rev: number): string =>
  `prompt-alias/${name}/${alias}/${rev}`;

function headers(eventId: string, correlationId?: string, traceparent?: string): Record<string, string> {
  return {
    [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE,
    [HEADER_CORRELATION_ID]: correlationId ?? eventId,
    ...(traceparent ? { [HEADER_TRACEPARENT]: traceparent } : {}),
  };
}

export function versionMessage(v: UnpublishedVersion): OutgoingMessage {
  const id = versionEventId(v.name, v.hash);
  const event = createEvent(
    EVENT_TYPES.promptVersionRegistered,
    {
      name: v.name,
      hash: v.hash,
      shortHash: v.shortHash,
      version: v.version,
      spec: v.spec,
      ...(v.metadata ? { metadata: v.metadata } : {}),
      createdAt: v.createdAt,
    },
    { source: EVENT_SOURCES.registry, id, time: v.createdAt, subject: v.name },
  );
  return { key: v.name, value: serializeEvent(event), headers: headers(id, v.correlationId, v.traceparent) };
}

export function aliasMoveMessage(m: UnpublishedAliasMove): OutgoingMessage {
  const id = aliasMoveEventId(m.name, m.alias, m.rev);
  const event = createEvent(
    EVENT_TYPES.promptAliasMoved,
    {
      name: m.name,
      alias: m.alias,
      from: m.from,
      to: m.to,
      toVersion: m.toVersion,
      actor: m.actor,
      movedAt: m.movedAt,
    },
    { source: EVENT_SOURCES.registry, id, time: m.movedAt, subject: m.name },
  );
  return { key: m.name, value: serializeEvent(event), headers: headers(id, m.correlationId, m.traceparent) };
}

export type NotPublishableReason = 'contract' | 'too_deep' | 'too_large';

/** An outbox record whose event cannot be published: it fails its contract or cannot fit in Kafka. */
export class EventNotPublishableError extends Error {
  override readonly name = 'EventNotPublishableError';

  constructor(
    readonly reason: NotPublishableReason,
    message: string,
    /** Contract issues, paths from the envelope root (`data.spec...`). */
    readonly issues: ContractIssue[] = [],
    readonly bytes?: number,
  ) {
    super(message);
  }
}

/**
 * The Kafka message of `record`, checked the way the broker and consumers will see it: the event
 * passes its contract (createEvent validates it) and its serialized value fits in `maxBytes`.
 * Throws EventNotPublishableError otherwise. The use cases call it before acknowledging a write,
 * and the outbox publisher before sending, so a record that could never be published is refused
 * at the edge, and one that got into the outbox anyway is recognised without a send.
 */
export function publishableMessage<T>(
  record: T,
  toMessage: (r: T) => OutgoingMessage,
  maxBytes: number,
): OutgoingMessage {
  let message: OutgoingMessage;
  try {
    message = toMessage(record);
  } catch (err) {
    if (err instanceof ContractValidationError) {
      throw new EventNotPublishableError('contract', err.message, err.issues);
    }
    if (err instanceof RangeError) {
      // Validation and serialization recurse into the value: too deep for the call stack.
      throw new EventNotPublishableError('too_deep', `the event is nested too deeply to be published`);
    }
    throw err;
  }
  const bytes = Buffer.byteLength(message.value);
  if (bytes > maxBytes) {
    throw new EventNotPublishableError(
      'too_large',
      `the event would be ${bytes} bytes; at most ${maxBytes} bytes can be published`,
      [],
      bytes,
    );
  }
  return message;
}
