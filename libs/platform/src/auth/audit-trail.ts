/**
 * The audit trail: every state change made through a platform API emits one
 * `io.llmops.audit.recorded.v1` event on `llmops.audit.v1` (key: project), whose actor is the
 * authenticated key id, never something the caller chose. The identity service stores the trail and
 * serves `GET /v1/audit`.
 *
 * `AuditTrail.record` sends the event through the platform producer and resolves once the broker
 * acknowledged it: call it after the change succeeded, before answering. A service that writes its
 * events through an outbox builds the event with `auditEvent` and writes it with the change instead.
 */
import { Inject, Injectable } from '@nestjs/common';
import {
  type AuditAction,
  CLOUDEVENTS_CONTENT_TYPE,
  type CloudEvent,
  createEvent,
  EVENT_TYPES,
  HEADER_CONTENT_TYPE,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import type { BaseServiceConfig } from '../config/config';
import { BatchingProducer } from '../kafka/batching-producer';
import { contextHeaders, type RequestContext } from '../logging/context';
import { SERVICE_CONFIG } from '../platform.tokens';
import type { Principal } from './principal';

export interface AuditEntry {
  action: AuditAction;
  /** Id of the changed resource: `summarizer@<hash>`, `summarizer/production`, an experiment key... */
  resource: string;
  /** A small flat object of what changed. */
  details?: Record<string, string | number | boolean | null>;
  /** Free text from the caller. */
  note?: string;
}

/**
 * Who made a change: an authenticated key, the platform itself (`system:<name>`), or an experiment
 * decision acting on its own (`decision:<decision event id>`), in a project.
 */
export type AuditActor =
  Principal | { system: string; project: string } | { decision: string; project: string };

/** The `actor` an audit event names for `actor`. */
export function auditActorId(actor: AuditActor): string {
  if ('keyId' in actor) return actor.keyId;
  return 'system' in actor ? `system:${actor.system}` : `decision:${actor.decision}`;
}

type AuditEvent = CloudEvent<typeof EVENT_TYPES.auditRecorded>;

/**
 * The audit event of one change (for services that write it through an outbox). `options.id` and
 * `options.time` make a re-published record the same event (consumers dedupe by id).
 */
export function auditEvent(
  actor: AuditActor,
  entry: AuditEntry,
  serviceName: string,
  options: { id?: string; time?: string | Date } = {},
): AuditEvent {
  const project = actor.project;
  return createEvent(
    EVENT_TYPES.auditRecorded,
    {
      project,
      actor: auditActorId(actor),
      action: entry.action,
      resource: entry.resource,
      ...(entry.details ? { details: entry.details } : {}),
      ...(entry.note ? { note: entry.note } : {}),
    },
    { source: `/llmops/${serviceName}`, project, ...options },
  );
}

@Injectable()
export class AuditTrail {
  private readonly topic: string;

  constructor(
    private readonly producer: BatchingProducer,
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
  ) {
    this.topic = topicName(TOPICS.audit, config.KAFKA_TOPIC_PREFIX);
  }

  /**
   * Records one change; resolves once the broker has the event (throws 503 when it is unavailable).
   * `options` as in {@link auditEvent}: a deterministic id makes a repeated record the same event.
   */
  async record(
    actor: AuditActor,
    entry: AuditEntry,
    ctx?: RequestContext,
    options?: { id?: string; time?: string | Date },
  ): Promise<void> {
    const event = auditEvent(actor, entry, this.config.SERVICE_NAME, options);
    await this.producer.send(this.topic, [
      {
        key: event.data.project,
        value: serializeEvent(event),
        headers: { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE, ...(ctx ? contextHeaders(ctx) : {}) },
      },
    ]);
  }
}
