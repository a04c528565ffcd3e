import { isDuplicateKey, requestCollection } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { exampleId } from '../domain/example';
import { DATASET, type DatasetDoc } from './datasets.schemas';

/** A dataset's `_id`: its name scoped by project the way example ids are. */
export function datasetDocId(project: string, name: string): string {
  return exampleId(project, name);
}

/**
 * The project's dataset definitions. Request-path operations have the operation deadline; the
 * reads of a snapshot build (`current`) do not: a build is a long operation anyway, and a loaded
 * database must not fail it after its records are written.
 */
@Injectable()
export class DatasetRepository {
  private readonly datasets: mongo.Collection<DatasetDoc>;
  private readonly background: mongo.Collection<DatasetDoc>;

  constructor(@InjectModel(DATASET) model: Model<DatasetDoc>) {
    this.datasets = requestCollection(model);
    this.background = model.collection as unknown as mongo.Collection<DatasetDoc>;
  }

  /** The project's dataset `name`, or null (also when another project has one of that name). */
  get(project: string, name: string): Promise<DatasetDoc | null> {
    return this.datasets.findOne({ _id: datasetDocId(project, name), project }) as Promise<DatasetDoc | null>;
  }

  /** `get` without the operation deadline, for snapshot builds. */
  current(project: string, name: string): Promise<DatasetDoc | null> {
    return this.background.findOne({
      _id: datasetDocId(project, name),
      project,
    }) as Promise<DatasetDoc | null>;
  }

  /** Stores a new dataset; 'exists' when the project has one of that name. */
  async create(doc: DatasetDoc): Promise<'created' | 'exists'> {
    try {
      await this.datasets.insertOne(doc);
      return 'created';
    } catch (err) {
      if (isDuplicateKey(err)) return 'exists';
      throw err;
    }
  }

  /** The project's datasets in name order after `after`, at most `limit`. */
  page(project: string, limit: number, after?: string): Promise<DatasetDoc[]> {
    return this.datasets
      .find({ project, ...(after === undefined ? {} : { name: { $gt: after } }) })
      .sort({ name: 1 })
      .limit(limit)
      .toArray() as Promise<DatasetDoc[]>;
  }

  /** Deletes the definition; false when there was none. */
  async delete(project: string, name: string): Promise<boolean> {
    const result = await this.datasets.deleteOne({ _id: datasetDocId(project, name), project });
    return result.deletedCount > 0;
  }
}
