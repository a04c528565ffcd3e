/**
 * Outbox publisher of experiment changes to the COMPACTED experiments topic (record key =
 * `experimentTopicKey(key, project)`: the key in project `default`, `<project>/<key>` otherwise, so
 * two projects' experiments never compact together). Every event carries its `project`.
 *
 * Every write stores the new snapshot with `unpublished: true` (see persistence/experiment.schema).
 * `publish(key)` sends the event of the document's current revision and then clears the flag only
 * if the document is still at that revision. It runs right after each write (the HTTP call waits
 * for it up to EXPERIMENTS_PUBLISH_WAIT_MS) and from a loop every EXPERIMENTS_OUTBOX_INTERVAL_MS,
 * which picks up whatever a Kafka outage or a crash between the MongoDB write and the send left
 * behind. Sending twice is harmless: same event id, same revision, consumers keep the highest.
 *
 * The audit events of the changes (`pendingAudits`) go to the audit topic with the experiment event,
 * with the ids they got when the change was written, so a re-send is recognisably the same event.
 *
 * Compaction keeps the LAST record per key, so a stale snapshot must never be last in the log.
 * If the revision moved on while we were sending (the flag-clearing update matches nothing), the
 * record we just sent may be older than one another replica already sent: we send the newest
 * snapshot again, so whoever appends a stale record also appends the newest after it.
 */
import {
  CLOUDEVENTS_CONTENT_TYPE,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  experimentTopicKey,
  HEADER_CONTENT_TYPE,
  serializeEvent,
  TOPICS,
  topicName,
  type AnyCloudEvent,
} from '@llmops/contracts';
import {
  BatchingProducer,
  contextFields,
  contextHeaders,
  LOGGER,
  METRICS_REGISTRY,
  newContext,
  type RequestContext,
  SERVICE_CONFIG,
} from '@llmops/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AssignmentConfig } from '../config/assignment.config';
import { type ExperimentRecord, ExperimentRepository } from './persistence/experiment.repository';

const MAX_ROUNDS = 5;

export function experimentEvent(record: ExperimentRecord): AnyCloudEvent {
  const { snapshot, pendingEvent: e } = record;
  const options = {
    source: EVENT_SOURCES.assignment,
    id: e.id,
    time: e.changedAt,
    subject: snapshot.key,
    project: record.project,
  };
  switch (e.type) {
    case EVENT_TYPES.experimentCreated:
      return createEvent(e.type, { experiment: snapshot, changedAt: e.changedAt }, options);
    case EVENT_TYPES.experimentStatusChanged:
      return createEvent(
        e.type,
        {
          experiment: snapshot,
          changedAt: e.changedAt,
          ...(e.previousStatus ? { previousStatus: e.previousStatus } : {}),
        },
        options,
      );
    default:
      return createEvent(
        EVENT_TYPES.experimentUpdated,
        { experiment: snapshot, changedAt: e.changedAt, ...(e.changes ? { changes: e.changes } : {}) },
        options,
      );
  }
}

/** The ids stored with the revision; new ones for documents written before they were stored. */
function storedContext(record: ExperimentRecord): RequestContext {
  const { correlationId, traceparent } = record.pendingEvent;
  return correlationId && traceparent ? { correlationId, traceparent } : newContext();
}

@Injectable()
export class ExperimentPublisher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly topic: string;
  private readonly auditTopic: string;
  private readonly chains = new Map<string, Promise<boolean>>();
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private stopped = false;
  private readonly published: Counter<'outcome'>;

  constructor(
    private readonly repository: ExperimentRepository,
    private readonly producer: BatchingProducer,
    @Inject(SERVICE_CONFIG) private readonly config: AssignmentConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.topic = topicName(TOPICS.experiments, config.KAFKA_TOPIC_PREFIX);
    this.auditTopic = topicName(TOPICS.audit, config.KAFKA_TOPIC_PREFIX);
    this.published = new Counter({
      name: 'llmops_experiment_events_published_total',
      help: 'Experiment events sent to the experiments topic, by outcome (ok, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    const repo = this.repository;
    new Gauge({
      name: 'llmops_experiment_outbox_unpublished',
      help: 'Experiments whose newest revision is not yet acknowledged by Kafka',
      registers: [registry],
      async collect() {
        this.set(await repo.countUnpublished().catch(() => -1));
      },
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.drain(), this.config.EXPERIMENTS_OUTBOX_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.draining;
    await Promise.allSettled([...this.chains.values()]);
  }

  /**
   * Publishes the newest revision of the project's experiment `key` if not yet published.
   * Resolves true once the newest revision is acknowledged; rejects when Kafka is unavailable (the
   * loop retries later). Calls for one experiment are serialized within this replica. The event
   * carries the context stored with the revision (that of the request that made it).
   */
  publish(project: string, key: string): Promise<boolean> {
    const id = experimentTopicKey(key, project);
    const previous = this.chains.get(id) ?? Promise.resolve(true);
    const next = previous.catch(() => false).then(() => this.publishNewest(project, key, id));
    this.chains.set(id, next);
    const cleanup = (): void => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  /** Publishes every unpublished experiment (the outbox loop). */
  drain(): Promise<void> {
    if (this.draining || this.stopped) return this.draining ?? Promise.resolve();
    this.draining = (async () => {
      try {
        const pending = await this.repository.findUnpublished();
        for (const record of pending) {
          if (this.stopped) break;
          await this.publish(record.project, record.snapshot.key);
        }
      } catch (err) {
        this.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'experiment outbox drain failed; retrying later',
        );
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  /** `id`: the experiment's record key on the topic. */
  private async publishNewest(project: string, key: string, id: string): Promise<boolean> {
    let mustResend = false;
    let ctx: RequestContext | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const record = await this.repository.findByKey(project, key);
      if (!record) return false;
      if (!record.unpublished && !mustResend) return true;
      const event = experimentEvent(record);
      ctx = storedContext(record);
      const headers = { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE, ...contextHeaders(ctx) };
      try {
        await Promise.all([
          this.producer.send(this.topic, [{ key: id, value: serializeEvent(event), headers }]),
          record.pendingAudits.length > 0 &&
            this.producer.send(
              this.auditTopic,
              record.pendingAudits.map((audit) => ({
                key: audit.data.project,
                value: serializeEvent(audit),
                headers,
              })),
            ),
        ]);
      } catch (err) {
        this.published.inc({ outcome: 'failed' });
        throw err;
      }
      this.published.inc({ outcome: 'ok' });
      if (await this.repository.markPublished(project, key, record.snapshot.revision)) return true;
      mustResend = true;
    }
    this.logger.warn(
      { project, key, ...(ctx ? contextFields(ctx) : {}) },
      'experiment kept changing while publishing; the outbox loop will finish it',
    );
    return false;
  }
}
