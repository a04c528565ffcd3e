/**
 * The datasets service's documents as mongoose models. Hot paths use the native collection behind
 * each model; the schemas name the collections and the indexes, each beside the query it serves.
 * Nested values (generations, feedback revisions, definitions) are stored as they are
 * (`strict: false`); snapshot records as their canonical JSON text.
 */
import type { ModelDefinition } from '@nestjs/mongoose';
import { Schema } from 'mongoose';
import type { ExampleDoc } from '../domain/example';
import type { ExampleFact } from '../domain/example-facts';

/** A dataset: a named, stored definition (filter, format, split...) of the project. */
export interface DatasetDoc {
  /** `exampleId`-style scope of the name: bare in `default`, `<project>U+001F<name>` otherwise. */
  _id: string;
  project: string;
  name: string;
  /** The validated definition, as accepted (see the datasets API). */
  definition: Record<string, unknown>;
  createdAt: Date;
  /** Key id of the creator. */
  createdBy: string;
}

/** An immutable snapshot of a dataset: its records live in `snapshot_records` under `build`. */
export interface SnapshotDoc {
  /** `${dataset _id}@${sequence}` */
  _id: string;
  project: string;
  dataset: string;
  /** SHA-256 (hex) of the canonical JSON of the ordered records. */
  id: string;
  sequence: number;
  /** The records' owner id (chosen before the content id is known). */
  build: string;
  format: string;
  records: number;
  /** Records per split. */
  splits: Record<string, number>;
  /** The dataset definition the snapshot was taken with. */
  definition: Record<string, unknown>;
  createdAt: Date;
  createdBy: string;
  /** Whether its `io.llmops.dataset.snapshot.created.v1` event is on Kafka (re-sent at boot if not). */
  published: boolean;
}

/**
 * One record of a snapshot, in snapshot order `i`, stored as text: its canonical JSON, the exact
 * bytes the snapshot id hashes. Records carry user-given keys (score names) that FerretDB refuses
 * as field names (`.`), and text round-trips every record unchanged.
 */
export interface SnapshotRecordDoc {
  /** `${build}:${i}` */
  _id: string;
  build: string;
  i: number;
  split: string;
  /** `canonicalize(record)` */
  json: string;
}

/** Where an alias of a prompt points now (the last `io.llmops.prompt.alias.moved.v1` seen for it). */
export interface PromptAliasDoc {
  /** `${exampleId-style scope of the prompt name}/${alias}` (names and aliases never hold `/`). */
  _id: string;
  project: string;
  name: string;
  alias: string;
  /** The prompt hash the alias points at. */
  hash: string;
  version: number;
}

export const EXAMPLE = 'Example';
export const EXAMPLE_FACT = 'ExampleFact';
export const DATASET = 'Dataset';
export const SNAPSHOT = 'Snapshot';
export const SNAPSHOT_RECORD = 'SnapshotRecord';
export const PROMPT_ALIAS = 'PromptAlias';

const options = (collection: string) => ({ collection, versionKey: false, strict: false }) as const;

export const ExampleSchema = new Schema<ExampleDoc>(
  { _id: String, project: String, requestId: String, firstSeenAt: Date },
  options('examples'),
);
// Snapshots: a project's examples in (input hash, id) order, so dedupe and pairing stream.
ExampleSchema.index({ project: 1, 'generation.inputHash': 1, _id: 1 });
// Retention sweep.
ExampleSchema.index({ firstSeenAt: 1 });

// The `facts` layout of examples (see example-writer.ts): insert-only documents folded on read.
export const ExampleFactSchema = new Schema<ExampleFact>(
  { _id: String, example: String, project: String, requestId: String, path: String, at: Date },
  options('example_facts'),
);
// Snapshots: a project's generations in (input hash, example) order; then the feedback of a chunk.
ExampleFactSchema.index({ project: 1, 'generation.inputHash': 1, example: 1 });
ExampleFactSchema.index({ example: 1 });
// Retention sweep.
ExampleFactSchema.index({ at: 1 });

export const DatasetSchema = new Schema<DatasetDoc>(
  { _id: String, project: String, name: String, createdAt: Date, createdBy: String },
  options('datasets'),
);
// Listing a project's datasets by name.
DatasetSchema.index({ project: 1, name: 1 }, { unique: true });

export const SnapshotSchema = new Schema<SnapshotDoc>(
  {
    _id: String,
    project: String,
    dataset: String,
    id: String,
    sequence: Number,
    build: String,
    createdAt: Date,
    published: Boolean,
  },
  options('snapshots'),
);
// One snapshot per content id and one per sequence number in a dataset.
SnapshotSchema.index({ project: 1, dataset: 1, id: 1 }, { unique: true });
SnapshotSchema.index({ project: 1, dataset: 1, sequence: 1 }, { unique: true });
// Boot re-publication of snapshots whose event is not on Kafka yet.
SnapshotSchema.index({ published: 1 });

export const SnapshotRecordSchema = new Schema<SnapshotRecordDoc>(
  { _id: String, build: String, i: Number, split: String, json: String },
  options('snapshot_records'),
);
// Downloads: one split of a snapshot in order.
SnapshotRecordSchema.index({ build: 1, split: 1, i: 1 });

// Snapshots resolve a filter's `prompt.alias` by `_id`; alias moves are blind upserts by `_id`.
export const PromptAliasSchema = new Schema<PromptAliasDoc>(
  { _id: String, project: String, name: String, alias: String, hash: String, version: Number },
  options('prompt_aliases'),
);

export const DATASETS_MODELS: ModelDefinition[] = [
  { name: EXAMPLE, schema: ExampleSchema },
  { name: EXAMPLE_FACT, schema: ExampleFactSchema },
  { name: DATASET, schema: DatasetSchema },
  { name: SNAPSHOT, schema: SnapshotSchema },
  { name: SNAPSHOT_RECORD, schema: SnapshotRecordSchema },
  { name: PROMPT_ALIAS, schema: PromptAliasSchema },
];
