/**
 * The one write path for experiments: conditional write to MongoDB (the outbox included), apply to
 * this replica's memory, then publish. The response waits for the publication up to
 * EXPERIMENTS_PUBLISH_WAIT_MS; past that (Kafka down) it answers anyway with
 * `publishedRevision < revision`, since the change is durable and the outbox loop will publish it.
 *
 * Every change is made in the actor's project and records its audit event (actor: the caller's
 * key id, or the decision that stopped the experiment) in the same outbox write, so the audit trail has every change that was made, Kafka
 * outage or crash in between included, and nothing that was not.
 */
import {
  type AuditAction,
  EVENT_TYPES,
  type ExperimentSnapshot,
  type ExperimentStatus,
} from '@llmops/contracts';
import {
  type AuditActor,
  auditEvent,
  contextFields,
  LOGGER,
  type RequestContext,
  SERVICE_CONFIG,
  uuidv7,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AssignmentConfig } from '../config/assignment.config';
import type { ExperimentResponse } from './dto/experiment.response';
import { ExperimentPublisher } from './experiment-publisher';
import { ExperimentStore } from './experiment-store';
import {
  ConcurrentModificationError,
  ExperimentExistsError,
  ExperimentNotFoundError,
} from './experiments.errors';
import { type ExperimentRecord, ExperimentRepository } from './persistence/experiment.repository';
import type { AuditEvent, PendingEvent } from './persistence/experiment.schema';

const MAX_ATTEMPTS = 3;

/** What a mutation decided: the next snapshot and how to describe it, or null for "no change". */
export type Mutation = {
  next: ExperimentSnapshot;
  event:
    { type: 'updated'; changes: string[] } | { type: 'status-changed'; previousStatus: ExperimentStatus };
} | null;

const STATUS_ACTIONS: Record<ExperimentStatus, AuditAction> = {
  draft: 'experiment.updated',
  running: 'experiment.started',
  paused: 'experiment.paused',
  stopped: 'experiment.stopped',
};

export function toResponse(
  record: Pick<ExperimentRecord, 'snapshot' | 'publishedRevision'>,
): ExperimentResponse {
  return { ...record.snapshot, publishedRevision: record.publishedRevision };
}

@Injectable()
export class ExperimentWriter {
  constructor(
    private readonly repository: ExperimentRepository,
    private readonly store: ExperimentStore,
    private readonly publisher: ExperimentPublisher,
    @Inject(SERVICE_CONFIG) private readonly config: AssignmentConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Creates the experiment in the caller's project. `ctx` (the request's context) is stored with
   * the revision; its event carries it.
   */
  async create(
    actor: AuditActor,
    snapshot: ExperimentSnapshot,
    ctx: RequestContext,
  ): Promise<ExperimentResponse> {
    const { project } = actor;
    const pending: PendingEvent = {
      id: uuidv7(),
      type: EVENT_TYPES.experimentCreated,
      changedAt: snapshot.createdAt,
      ...contextFields(ctx),
    };
    const audit = this.audit(actor, 'experiment.created', snapshot, { status: snapshot.status });
    const inserted = await this.repository.insert(project, snapshot, pending, [audit]);
    if ('duplicate' in inserted) throw new ExperimentExistsError(snapshot.key);
    this.store.apply(project, snapshot, 'local');
    return this.afterWrite(project, inserted.snapshot, 0, ctx);
  }

  /**
   * Reads the current experiment, lets `decide` compute the change (it may throw domain errors
   * or call the registry) and writes it if nobody changed the experiment meanwhile; on a
   * concurrent change, decides again on the newer state.
   */
  async mutate(
    actor: AuditActor,
    key: string,
    ctx: RequestContext,
    decide: (current: ExperimentSnapshot) => Promise<Mutation> | Mutation,
  ): Promise<ExperimentResponse> {
    const { project } = actor;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await this.repository.findByKey(project, key);
      if (!current) throw new ExperimentNotFoundError(key);
      const mutation = await decide(current.snapshot);
      if (!mutation) return toResponse(current);
      const { next, event } = mutation;
      const pending: PendingEvent =
        event.type === 'updated'
          ? {
              id: uuidv7(),
              type: EVENT_TYPES.experimentUpdated,
              changedAt: next.updatedAt,
              changes: event.changes,
              ...contextFields(ctx),
            }
          : {
              id: uuidv7(),
              type: EVENT_TYPES.experimentStatusChanged,
              changedAt: next.updatedAt,
              previousStatus: event.previousStatus,
              ...contextFields(ctx),
            };
      const audit =
        event.type === 'status-changed'
          ? this.audit(actor, STATUS_ACTIONS[next.status], next, {
              previousStatus: event.previousStatus,
              status: next.status,
            })
          : next.phase !== current.snapshot.phase
            ? this.audit(actor, 'experiment.phase-started', next, {
                phase: next.phase,
                changes: event.changes.join(','),
              })
            : this.audit(actor, 'experiment.updated', next, { changes: event.changes.join(',') });
      if (
        await this.repository.replaceIfRevision(
          project,
          current.snapshot.revision,
          next,
          pending,
          [...current.pendingAudits, audit],
          current.publishedRevision,
        )
      ) {
        this.store.apply(project, next, 'local');
        return this.afterWrite(project, next, current.publishedRevision, ctx);
      }
    }
    throw new ConcurrentModificationError(key);
  }

  /** The audit event of the change that made `snapshot` (resource: the experiment key). */
  private audit(
    actor: AuditActor,
    action: AuditAction,
    snapshot: ExperimentSnapshot,
    details: Record<string, string | number>,
  ): AuditEvent {
    return auditEvent(
      actor,
      { action, resource: snapshot.key, details: { ...details, revision: snapshot.revision } },
      this.config.SERVICE_NAME,
    );
  }

  private async afterWrite(
    project: string,
    snapshot: ExperimentSnapshot,
    publishedBefore: number,
    ctx: RequestContext,
  ): Promise<ExperimentResponse> {
    const published = this.publisher.publish(project, snapshot.key).catch((err: unknown) => {
      this.logger.warn(
        {
          ...contextFields(ctx),
          project,
          key: snapshot.key,
          revision: snapshot.revision,
          err: err instanceof Error ? err.message : String(err),
        },
        'experiment event not published yet; the outbox will retry',
      );
      return false;
    });
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      published,
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.config.EXPERIMENTS_PUBLISH_WAIT_MS);
      }),
    ]);
    if (timer) clearTimeout(timer);
    return { ...snapshot, publishedRevision: ok ? snapshot.revision : publishedBefore };
  }
}
