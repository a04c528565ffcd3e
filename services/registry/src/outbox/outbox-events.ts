/**
 * Outbox records -> Kafka records: each record is its registry event and, when a key made the
 * change, its audit record. Event ids are deterministic (derived from what happened, not from when
 * it was published), so a record published twice (crash after the broker ack but before it was
 * marked published, or two instances draining at once) carries the same CloudEvent ids and
 * consumers drop the copies.
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
  type Scope,
  serializeEvent,
} from '@llmops/contracts';
import { type AuditEntry, auditEvent, type OutgoingMessage } from '@llmops/platform';
import { scopedId } from '../domain/project-scope';
import { UNAUTHENTICATED_ACTOR } from '../domain/prompt-version';
import type { UnpublishedAliasMove } from '../persistence/alias-move.repository';
import type { UnpublishedVersion } from '../persistence/prompt-version.repository';

/** `prompt-version/<name>/<hash>`, with the project after the prefix outside project `default`. */
export const versionEventId = (project: string, name: string, hash: string): string =>
  `prompt-version/${scopedId(project, name, hash)}`;
export const aliasMoveEventId = (project: string, name: string, alias: string, rev: number): string =>
  `prompt-alias/${scopedId(project, name, alias, rev)}`;

function headers(eventId: string, correlationId?: string, traceparent?: string): Record<string, string> {
  return {
    [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE,
    [HEADER_CORRELATION_ID]: correlationId ?? eventId,
    ...(traceparent ? { [HEADER_TRACEPARENT]: traceparent } : {}),
  };
}

export function versionMessage(v: UnpublishedVersion): OutgoingMessage {
  const id = versionEventId(v.project, v.name, v.hash);
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
    { source: EVENT_SOURCES.registry, id, time: v.createdAt, subject: v.name, project: v.project },
  );
  return { key: v.name, value: serializeEvent(event), headers: headers(id, v.correlationId, v.traceparent) };
}

export function aliasMoveMessage(m: UnpublishedAliasMove): OutgoingMessage {
  const id = aliasMoveEventId(m.project, m.name, m.alias, m.rev);
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
    { source: EVENT_SOURCES.registry, id, time: m.movedAt, subject: m.name, project: m.project },
  );
  return { key: m.name, value: serializeEvent(event), headers: headers(id, m.correlationId, m.traceparent) };
}

/** The audit event's source: `/llmops/registry`. */
const AUDIT_SOURCE_SERVICE = 'registry';

/**
 * The audit record of a change. Its id is derived from the registry event's id, and its time is
 * the change's, so re-publishing the outbox record re-sends the same audit event.
 */
function auditMessage(
  record: { project: string; correlationId?: string; traceparent?: string },
  keyId: string,
  entry: AuditEntry,
  changeId: string,
  time: string,
): OutgoingMessage {
  const actor = { keyId, project: record.project, scopes: new Set<Scope>() };
  const id = `audit/${changeId}`;
  const event = auditEvent(actor, entry, AUDIT_SOURCE_SERVICE, { id, time });
  return {
    key: record.project,
    value: serializeEvent(event),
    headers: headers(id, record.correlationId, record.traceparent),
  };
}

/** `prompt.registered`; null for a version registered before API keys (before the audit trail). */
export function versionAuditMessage(v: UnpublishedVersion): OutgoingMessage | null {
  if (v.actor === undefined) return null;
  return auditMessage(
    v,
    v.actor,
    { action: 'prompt.registered', resource: `${v.name}@${v.hash}`, details: { version: v.version } },
    versionEventId(v.project, v.name, v.hash),
    v.createdAt,
  );
}

/** `alias.moved`; null for a move recorded before API keys (before the audit trail). */
export function aliasMoveAuditMessage(m: UnpublishedAliasMove): OutgoingMessage | null {
  if (m.actor === UNAUTHENTICATED_ACTOR) return null;
  return auditMessage(
    m,
    m.actor,
    {
      action: 'alias.moved',
      resource: `${m.name}/${m.alias}`,
      details: { rev: m.rev, from: m.from, to: m.to, toVersion: m.toVersion },
      ...(m.note ? { note: m.note } : {}),
    },
    aliasMoveEventId(m.project, m.name, m.alias, m.rev),
    m.movedAt,
  );
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
export function publishableMessage<T, M extends OutgoingMessage | null>(
  record: T,
  toMessage: (r: T) => M,
  maxBytes: number,
): M {
  let message: M;
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
  if (message === null) return message;
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
