import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, mongo } from 'mongoose';
import type { ExampleDoc } from '../domain/example';
import { EXAMPLE } from './datasets.schemas';

/** One unconditional upsert of an example (see materialization: idempotent and commutative). */
export interface ExampleUpsert {
  _id: string;
  $set: Record<string, unknown>;
  $unset?: Record<string, ''>;
  firstSeenAt: Date;
}

const DUPLICATE_KEY = 11000;
/** Upserts of one `_id` racing another writer's can lose with a duplicate key; they are simply re-sent. */
const DUPLICATE_KEY_RETRIES = 3;

/**
 * The consumer's writes to `examples` through the native collection: no reads, no mongoose
 * documents, no deadline (a failed batch is retried by the consumer). Also the retention delete and
 * the state counts behind the example gauges.
 */
@Injectable()
export class ExampleWriter {
  private readonly examples: mongo.Collection<ExampleDoc>;

  constructor(@InjectModel(EXAMPLE) model: Model<ExampleDoc>) {
    this.examples = model.collection as unknown as mongo.Collection<ExampleDoc>;
  }

  /** One unordered bulk write of the upserts (their order does not matter: they commute). */
  async upsert(upserts: ExampleUpsert[]): Promise<void> {
    let ops = upserts.map(({ _id, $set, $unset, firstSeenAt }) => ({
      updateOne: {
        filter: { _id },
        update: { $set, $min: { firstSeenAt }, ...($unset ? { $unset } : {}) },
        upsert: true,
      },
    }));
    for (let attempt = 0; ops.length > 0; attempt++) {
      try {
        await this.examples.bulkWrite(ops, { ordered: false });
        return;
      } catch (err) {
        // Two upserts inserting one new `_id` at once: one of them fails with a duplicate key and
        // would have been an update. Re-sending exactly those is safe since every upsert is idempotent.
        if (!(err instanceof mongo.MongoBulkWriteError) || attempt >= DUPLICATE_KEY_RETRIES) throw err;
        const errors = [err.writeErrors].flat();
        if (errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
        ops = errors.map((e) => ops[e.index]);
      }
    }
  }

  /** Deletes the examples first seen before `horizon`; returns how many. */
  async purgeFirstSeenBefore(horizon: Date): Promise<number> {
    const { deletedCount } = await this.examples.deleteMany({ firstSeenAt: { $lt: horizon } });
    return deletedCount;
  }

  /** Examples with their generation (`materialized`) and with feedback only (`parked`). */
  async countByState(): Promise<{ materialized: number; parked: number }> {
    const [materialized, parked] = await Promise.all([
      this.examples.countDocuments({ generation: { $exists: true } }),
      this.examples.countDocuments({ generation: { $exists: false } }),
    ]);
    return { materialized, parked };
  }
}
