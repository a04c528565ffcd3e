import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import type { ExampleDoc } from '../domain/example';
import { type ExampleFact, foldFacts, GENERATION_PATH } from '../domain/example-facts';
import { EXAMPLE, EXAMPLE_FACT } from './datasets.schemas';
import { EXAMPLE_LAYOUT, type ExampleLayout } from './example-layout';

/** Examples read per round trip while a snapshot streams them. */
const BATCH_SIZE = 500;

/** Examples in snapshot order; leaving a `for await` early, or `close()`, closes the cursor. */
export interface ExampleStream extends AsyncIterable<ExampleDoc> {
  close(): Promise<void>;
}

/** Reads examples for snapshots: the native collections, no request deadline (snapshots are long). */
@Injectable()
export class ExampleReader {
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

  /**
   * The examples with a generation matching `query` (on `project` and `generation.*` fields) in
   * snapshot order: input hash, then id (the index `{project, generation.inputHash, _id}`), a batch
   * at a time.
   */
  stream(query: mongo.Filter<ExampleDoc>): ExampleStream {
    if (this.layout === 'facts') return this.streamFacts(query);
    return this.examples.find(query).sort({ 'generation.inputHash': 1, _id: 1 }).batchSize(BATCH_SIZE);
  }

  /**
   * The `facts` layout: the generation facts matching `query` in the same order, and for each batch
   * of them the feedback facts of their examples (one query per batch), folded into examples.
   */
  private streamFacts(query: mongo.Filter<ExampleDoc>): ExampleStream {
    const generations = this.facts
      .find({ ...(query as mongo.Filter<ExampleFact>), path: GENERATION_PATH })
      .sort({ 'generation.inputHash': 1, example: 1 })
      .batchSize(BATCH_SIZE);
    const facts = this.facts;
    async function* examples(): AsyncGenerator<ExampleDoc> {
      let batch: ExampleFact[] = [];
      const fold = async function* (): AsyncGenerator<ExampleDoc> {
        const ids = batch.map((g) => g.example);
        const feedback = await facts
          .find({ example: { $in: ids }, path: { $ne: GENERATION_PATH } })
          .toArray();
        const byExample = new Map<string, ExampleFact[]>();
        for (const f of feedback) {
          const list = byExample.get(f.example);
          if (list) list.push(f);
          else byExample.set(f.example, [f]);
        }
        for (const g of batch) yield foldFacts([g, ...(byExample.get(g.example) ?? [])]);
        batch = [];
      };
      for await (const g of generations) {
        batch.push(g);
        if (batch.length >= BATCH_SIZE) yield* fold();
      }
      if (batch.length > 0) yield* fold();
    }
    const iterator = examples();
    return {
      [Symbol.asyncIterator]: () => iterator,
      close: async () => {
        await iterator.return(undefined);
        await generations.close();
      },
    };
  }
}
