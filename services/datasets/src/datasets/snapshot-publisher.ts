/**
 * Announces snapshots: the `io.llmops.dataset.snapshot.created.v1` event and the
 * `dataset.snapshot-created` audit event, then `published: true`. Both events have ids derived from
 * the snapshot, so sending them again (a retry, the boot re-publication of snapshots whose
 * announcement failed) is the same event, which consumers store once.
 */
import {
  CLOUDEVENTS_CONTENT_TYPE,
  createEvent,
  datasetTopicKey,
  EVENT_SOURCES,
  EVENT_TYPES,
  HEADER_CONTENT_TYPE,
  type DatasetFormat,
  type DatasetSnapshotCreatedData,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import {
  AuditTrail,
  BatchingProducer,
  contextHeaders,
  type RequestContext,
  SERVICE_CONFIG,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { DatasetsConfig } from '../config/datasets.config';
import type { SnapshotDoc } from '../persistence/datasets.schemas';
import { SnapshotRepository } from '../persistence/snapshot.repository';
import { changeEventId } from './change-event-id';

/** The id of an event about a snapshot (`kind`: the event or its audit record). */
function snapshotEventId(kind: string, snapshot: SnapshotDoc): string {
  return changeEventId(kind, `${snapshot.project}/${snapshot.dataset}@${snapshot.sequence}:${snapshot.id}`);
}

@Injectable()
export class SnapshotPublisher {
  private readonly topic: string;

  constructor(
    private readonly producer: BatchingProducer,
    private readonly audit: AuditTrail,
    private readonly snapshots: SnapshotRepository,
    @Inject(SERVICE_CONFIG) config: DatasetsConfig,
  ) {
    this.topic = topicName(TOPICS.datasetSnapshots, config.KAFKA_TOPIC_PREFIX);
  }

  /** Announces every snapshot whose announcement a broker outage or a crash left pending. */
  async republish(): Promise<number> {
    const pending = await this.snapshots.unpublished();
    for (const snapshot of pending) await this.publish(snapshot);
    return pending.length;
  }

  /** Sends both events (resolves once the broker has them), then marks the snapshot published. */
  async publish(snapshot: SnapshotDoc, ctx?: RequestContext): Promise<void> {
    const createdAt = snapshot.createdAt.toISOString();
    const event = createEvent(
      EVENT_TYPES.datasetSnapshotCreated,
      {
        dataset: snapshot.dataset,
        snapshotId: snapshot.id,
        sequence: snapshot.sequence,
        format: snapshot.format as DatasetFormat,
        records: snapshot.records,
        splits: snapshot.splits,
        createdAt,
        definition: snapshot.definition as DatasetSnapshotCreatedData['definition'],
      },
      {
        source: EVENT_SOURCES.datasets,
        id: snapshotEventId('created', snapshot),
        time: createdAt,
        subject: snapshot.dataset,
        project: snapshot.project,
      },
    );
    await Promise.all([
      this.producer.send(this.topic, [
        {
          key: datasetTopicKey(snapshot.project, snapshot.dataset),
          value: serializeEvent(event),
          headers: { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE, ...(ctx ? contextHeaders(ctx) : {}) },
        },
      ]),
      this.audit.record(
        { keyId: snapshot.createdBy, project: snapshot.project, scopes: new Set() },
        {
          action: 'dataset.snapshot-created',
          resource: `${snapshot.dataset}@${snapshot.sequence}`,
          details: { snapshotId: snapshot.id, records: snapshot.records, format: snapshot.format },
        },
        ctx,
        { id: snapshotEventId('audit', snapshot), time: createdAt },
      ),
    ]);
    await this.snapshots.markPublished(snapshot._id);
  }
}
