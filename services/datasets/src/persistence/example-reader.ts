import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import type { ExampleDoc } from '../domain/example';
import { EXAMPLE } from './datasets.schemas';

/** Examples read per round trip while a snapshot streams them. */
const BATCH_SIZE = 500;

/** Reads examples for snapshots: the native collection, no request deadline (snapshots are long). */
@Injectable()
export class ExampleReader {
  private readonly examples: mongo.Collection<ExampleDoc>;

  constructor(@InjectModel(EXAMPLE) model: Model<ExampleDoc>) {
    this.examples = model.collection as unknown as mongo.Collection<ExampleDoc>;
  }

  /**
   * The examples matching `query` in snapshot order (input hash, then id: the index
   * `{project, generation.inputHash, _id}`), a batch at a time. Leaving a `for await` early closes
   * the cursor. Generation metadata is not read: no record carries it.
   */
  stream(query: mongo.Filter<ExampleDoc>): mongo.FindCursor<ExampleDoc> {
    return this.examples
      .find(query, { projection: { 'generation.metadata': 0 } })
      .sort({ 'generation.inputHash': 1, _id: 1 })
      .batchSize(BATCH_SIZE);
  }
}
