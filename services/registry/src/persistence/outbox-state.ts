/**
 * The outbox fields of version and alias-move documents, and the queries on them. A document is
 * pending while `published` is false and it is not quarantined. A record that fails to publish
 * for a reason of its own (it fails its event contract, cannot fit in Kafka, or the broker refuses
 * it) gets `publishAttempts`, `publishError` and `nextAttemptAt` (exponential backoff), so it is not
 * read again before then and never holds back the records behind it; after the last allowed
 * attempt it is `quarantined` and left alone until an operator clears the flag.
 */
import { Prop } from '@nestjs/mongoose';
import type { mongo } from 'mongoose';

/** The outbox fields, inherited by the schemas of version and alias-move documents. */
export class OutboxState {
  @Prop({ type: Boolean, required: true }) published!: boolean;
  @Prop({ type: Date }) publishedAt?: Date;
  /** Failed publish attempts of this record (its own failures, not broker outages). */
  @Prop({ type: Number }) publishAttempts?: number;
  /** When the last of those attempts failed. */
  @Prop({ type: Date }) lastAttemptAt?: Date;
  /** Not read by the publisher before this time. */
  @Prop({ type: Date }) nextAttemptAt?: Date;
  /** The last failure, as logged. */
  @Prop({ type: String }) publishError?: string;
  /** Never read by the publisher again (until an operator unsets it). */
  @Prop({ type: Boolean }) quarantined?: boolean;
  @Prop({ type: Date }) quarantinedAt?: Date;
}

/** What the publisher reads: a record, or the reason its document cannot be read as one. */
export interface OutboxEntry<T> {
  readonly id: string;
  readonly attempts: number;
  readonly record?: T;
  readonly error?: unknown;
}

export interface OutboxFailure {
  readonly id: string;
  /** Attempts including this one. */
  readonly attempts: number;
  readonly error: string;
  readonly failedAt: Date;
  /** When to try again; undefined quarantines the record. */
  readonly retryAt?: Date;
}

/** Pending records whose backoff has passed. */
export function pendingFilter<D extends OutboxState>(now: Date): mongo.Filter<D> {
  return {
    published: false,
    quarantined: { $ne: true },
    $or: [{ nextAttemptAt: { $exists: false } }, { nextAttemptAt: { $lte: now } }],
  } as mongo.Filter<D>;
}

/** Pending records, in backoff or not (quarantined ones are not pending). */
export function pendingOrWaiting<D extends OutboxState>(): mongo.Filter<D> {
  return { published: false, quarantined: { $ne: true } } as mongo.Filter<D>;
}

/** Reads one document as an outbox entry; a document that cannot be read becomes an entry with its error. */
export function toEntry<D extends OutboxState & { _id: string }, T>(
  doc: D,
  read: (d: D) => T,
): OutboxEntry<T> {
  const attempts = doc.publishAttempts ?? 0;
  try {
    return { id: doc._id, attempts, record: read(doc) };
  } catch (error) {
    return { id: doc._id, attempts, error };
  }
}

/** The request ids stored with an outbox document, carried onto the event it becomes. */
export interface OutboxRequestIds {
  readonly id: string;
  readonly correlationId?: string;
  readonly traceparent?: string;
}

/**
 * Up to `limit` pending documents whose backoff has passed, read with `read` (an unreadable one
 * becomes an entry with its error, ordered first so it is dealt with at once), the rest in
 * `order`: each stream oldest first.
 */
export async function findPendingEntries<
  D extends OutboxState & { _id: string; correlationId?: string; traceparent?: string },
  T,
>(
  collection: mongo.Collection<D>,
  limit: number,
  now: Date,
  read: (doc: D) => T,
  order: (a: T, b: T) => number,
): Promise<OutboxEntry<T & OutboxRequestIds>[]> {
  const docs = (await collection.find(pendingFilter<D>(now)).limit(limit).toArray()) as D[];
  return docs
    .map((d) =>
      toEntry(d, (doc) => ({
        ...read(doc),
        id: doc._id,
        correlationId: doc.correlationId,
        traceparent: doc.traceparent,
      })),
    )
    .sort((x, y) => {
      const [a, b] = [x.record, y.record];
      if (!a || !b) return a ? 1 : b ? -1 : 0;
      return order(a, b);
    });
}

export async function recordFailures<D extends OutboxState & { _id: string }>(
  collection: mongo.Collection<D>,
  failures: readonly OutboxFailure[],
): Promise<void> {
  for (const f of failures) {
    const failed = { publishAttempts: f.attempts, publishError: f.error, lastAttemptAt: f.failedAt };
    const set: Partial<OutboxState> = f.retryAt
      ? { ...failed, nextAttemptAt: f.retryAt }
      : { ...failed, quarantined: true, quarantinedAt: f.failedAt };
    await collection.updateOne(
      { _id: f.id, published: false } as mongo.Filter<D>,
      {
        $set: set,
      } as mongo.UpdateFilter<D>,
    );
  }
}

export async function markPublished<D extends OutboxState & { _id: string }>(
  collection: mongo.Collection<D>,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await collection.updateMany(
    { _id: { $in: ids }, published: false } as mongo.Filter<D>,
    {
      $set: { published: true, publishedAt: new Date() },
    } as mongo.UpdateFilter<D>,
  );
}
