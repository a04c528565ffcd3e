import { ensureIndexes, requestCollection } from '@llmops/platform';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { AuditRecordDocument } from './audit-record.schema';

export interface AuditRecord {
  id: string;
  project: string;
  time: string;
  actor: string;
  action: string;
  resource: string;
  source: string;
  details?: Record<string, string | number | boolean | null>;
  note?: string;
  correlationId?: string;
}

export interface AuditFilter {
  project: string;
  actor?: string;
  /** Only records at or after this instant. */
  since?: Date;
}

/** Where the previous page ended: records strictly older in (time, id) order come next. */
export interface AuditPosition {
  time: string;
  id: string;
}

function toRecord(d: AuditRecordDocument): AuditRecord {
  return {
    id: d._id,
    project: d.project,
    time: d.time.toISOString(),
    actor: d.actor,
    action: d.action,
    resource: d.resource,
    source: d.source,
    ...(d.details ? { details: Object.fromEntries(d.details.map((x) => [x.name, x.value])) } : {}),
    ...(d.note !== undefined ? { note: d.note } : {}),
    ...(d.correlationId !== undefined ? { correlationId: d.correlationId } : {}),
  };
}

@Injectable()
export class AuditRecordRepository implements OnModuleInit {
  /** Request paths: every operation has the operation deadline. */
  private readonly records: mongo.Collection<AuditRecordDocument>;
  /** Background work (boot, the consumer): no request deadline. */
  private readonly background: mongo.Collection<AuditRecordDocument>;

  constructor(@InjectModel(AuditRecordDocument.name) private readonly model: Model<AuditRecordDocument>) {
    this.records = requestCollection(model);
    this.background = model.db
      .getClient()
      .db(model.db.name)
      .collection<AuditRecordDocument>(model.collection.collectionName);
  }

  onModuleInit(): Promise<void> {
    return ensureIndexes(this.model);
  }

  /**
   * Stores records idempotently: each is inserted under its event id only if absent, so a
   * redelivered batch changes nothing. Background work (the consumer), without a request deadline.
   */
  async store(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.background.bulkWrite(
      records.map(({ id, time, details, ...rest }) => ({
        updateOne: {
          filter: { _id: id },
          update: {
            $setOnInsert: {
              ...rest,
              time: new Date(time),
              ...(details
                ? { details: Object.entries(details).map(([name, value]) => ({ name, value })) }
                : {}),
            },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** Newest first, `limit` records after `after` (exclusive). */
  async page(filter: AuditFilter, limit: number, after?: AuditPosition): Promise<AuditRecord[]> {
    const query: mongo.Filter<AuditRecordDocument> = { project: filter.project };
    if (filter.actor !== undefined) query.actor = filter.actor;
    const time: { $gte?: Date; $lte?: Date } = {};
    if (filter.since) time.$gte = filter.since;
    if (after) time.$lte = new Date(after.time);
    if (time.$gte || time.$lte) query.time = time;
    if (after) {
      const at = new Date(after.time);
      query.$or = [{ time: { $lt: at } }, { time: at, _id: { $lt: after.id } }];
    }
    const docs = await this.records.find(query).sort({ time: -1, _id: -1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }
}
