import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, mongo } from 'mongoose';
import type { ExampleDoc } from '../domain/example';
import { type ExampleFact, factOf, GENERATION_PATH } from '../domain/example-facts';
import { EXAMPLE, EXAMPLE_FACT } from './datasets.schemas';
import { EXAMPLE_LAYOUT, type ExampleLayout } from './example-layout';

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
/** Examples whose facts one purge command deletes. */
const PURGE_CHUNK = 1_000;

/**
 * The consumer's writes of examples through the native collections: no reads, no mongoose
 * documents, no deadline (a failed batch is retried by the consumer). Also the retention delete and
 * the state counts behind the example gauges. In the `facts` layout (example-layout.ts) each upsert
 * becomes the insert-only facts of the values it sets.
 */
@Injectable()
export class ExampleWriter {
  private readonly examples: mongo.Collection<ExampleDoc>;
  private readonly facts: mongo.Collection<ExampleFact>;

  constructor(
    @InjectModel(EXAMPLE) model: Model<ExampleDoc>,
    @InjectModel(EXAMPLE_FACT) facts: Model<ExampleFact>,
    @Inject(EXAMPLE_LAYOUT) private readonly layout: ExampleLayout,
  ) {
    this.examples = model.collection as unknown as mongo.Collection<ExampleDoc>;
    this.facts = facts.collection as unknown as mongo.Collection<ExampleFact>;
  }

  /** One unordered bulk write of the upserts (their order does not matter: they commute). */
  async upsert(upserts: ExampleUpsert[]): Promise<void> {
    if (this.layout === 'facts') return this.insertFacts(upserts);
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

  /**
   * The facts of the values the upserts set, inserted unordered. A fact already stored (a
   * re-consumed event) is refused as a duplicate key and changes nothing; a revision an edit
   * replaces stays beside it and loses when read (`latestRevisions`: the highest revision wins).
   */
  private async insertFacts(upserts: ExampleUpsert[]): Promise<void> {
    const facts: ExampleFact[] = [];
    for (const { _id, $set, firstSeenAt } of upserts) {
      const { project, requestId } = $set as { project: string; requestId: string };
      for (const [path, value] of Object.entries($set)) {
        if (path === GENERATION_PATH || path.startsWith('feedback.')) {
          facts.push(factOf(_id, project, requestId, path, value, firstSeenAt));
        }
      }
    }
    if (facts.length === 0) return;
    try {
      await this.facts.insertMany(facts, { ordered: false });
    } catch (err) {
      const errors = err instanceof mongo.MongoBulkWriteError ? [err.writeErrors].flat() : [];
      if (errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
    }
  }

  /**
   * Deletes the examples first seen before `horizon` (every fact of them, in the `facts` layout);
   * returns how many.
   */
  async purgeFirstSeenBefore(horizon: Date): Promise<number> {
    if (this.layout === 'facts') {
      // An example's first event is its earliest fact: the examples with a fact before the horizon.
      const ids = (await this.facts.distinct('example', { at: { $lt: horizon } })) as string[];
      for (let i = 0; i < ids.length; i += PURGE_CHUNK) {
        await this.facts.deleteMany({ example: { $in: ids.slice(i, i + PURGE_CHUNK) } });
      }
      return ids.length;
    }
    const { deletedCount } = await this.examples.deleteMany({ firstSeenAt: { $lt: horizon } });
    return deletedCount;
  }

  /** Examples with their generation (`materialized`) and with feedback only (`parked`). */
  async countByState(): Promise<{ materialized: number; parked: number }> {
    if (this.layout === 'facts') {
      const [generated, withFeedback] = await Promise.all([
        this.facts.distinct('example', { path: GENERATION_PATH }),
        this.facts.distinct('example', { path: { $ne: GENERATION_PATH } }),
      ]);
      const materialized = new Set(generated);
      return {
        materialized: materialized.size,
        parked: withFeedback.filter((id) => !materialized.has(id)).length,
      };
    }
    const [materialized, parked] = await Promise.all([
      this.examples.countDocuments({ generation: { $exists: true } }),
      this.examples.countDocuments({ generation: { $exists: false } }),
    ]);
    return { materialized, parked };
  }
}
