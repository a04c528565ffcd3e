/**
 * Writes a dataset, a snapshot and its records straight into the test database, as the snapshot
 * builder stores them, so download tests do not depend on how examples become records.
 */
import { randomUUID } from 'node:crypto';
import type { DatasetFormat } from '@llmops/contracts';
import { canonicalize, sha256Hex } from '@llmops/hashing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { datasetDocId } from '../../src/persistence/dataset.repository';
import {
  DATASET,
  type DatasetDoc,
  SNAPSHOT,
  SNAPSHOT_RECORD,
  type SnapshotDoc,
  type SnapshotRecordDoc,
} from '../../src/persistence/datasets.schemas';

export interface SeedSnapshot {
  project?: string;
  dataset: string;
  format: DatasetFormat;
  /** Split fractions of the definition (train is the rest). */
  split?: Record<string, number>;
  sequence?: number;
  /** The records in snapshot order; each names its split. */
  records: Array<Record<string, unknown> & { split: string }>;
  /** Records written per insertMany. */
  chunk?: number;
}

/** Stores the snapshot (and the dataset when it has none yet); returns the snapshot document. */
export async function seedSnapshot(app: NestFastifyApplication, seed: SeedSnapshot): Promise<SnapshotDoc> {
  const project = seed.project ?? 'default';
  const datasets = app.get<Model<DatasetDoc>>(getModelToken(DATASET)).collection;
  const snapshots = app.get<Model<SnapshotDoc>>(getModelToken(SNAPSHOT)).collection;
  const records = app.get<Model<SnapshotRecordDoc>>(getModelToken(SNAPSHOT_RECORD)).collection;
  const definition = {
    format: seed.format,
    filter: {},
    ...(seed.split ? { split: seed.split } : {}),
  };
  await datasets.updateOne(
    { _id: datasetDocId(project, seed.dataset) } as never,
    {
      $setOnInsert: {
        project,
        name: seed.dataset,
        definition,
        createdAt: new Date(),
        createdBy: 'seed',
      },
    },
    { upsert: true },
  );
  const build = randomUUID();
  const chunk = seed.chunk ?? 1_000;
  for (let start = 0; start < seed.records.length; start += chunk) {
    await records.insertMany(
      seed.records.slice(start, start + chunk).map((record, k) => ({
        _id: `${build}:${start + k}`,
        build,
        i: start + k,
        split: record.split,
        json: canonicalize(record),
      })) as never[],
      { ordered: false },
    );
  }
  const splits: Record<string, number> = { train: 0 };
  for (const name of Object.keys(seed.split ?? {})) splits[name] = 0;
  for (const record of seed.records) splits[record.split] = (splits[record.split] ?? 0) + 1;
  const sequence = seed.sequence ?? 1;
  const doc: SnapshotDoc = {
    _id: `${datasetDocId(project, seed.dataset)}@${sequence}`,
    project,
    dataset: seed.dataset,
    id: sha256Hex(canonicalize(seed.records)),
    sequence,
    build,
    format: seed.format,
    records: seed.records.length,
    splits,
    definition,
    createdAt: new Date(),
    createdBy: 'seed',
    published: true,
  };
  await snapshots.insertOne(doc as never);
  return doc;
}
