import { z } from 'zod';
import {
  doc,
  isoDateTime,
  JsonObjectSchema,
  nonNegativeInt,
  positiveInt,
  type SchemaKit,
  STRICT_KIT,
} from './common.schema';
import { datasetName, patterned, splitName } from './text.schema';

export const DATASET_SNAPSHOT_CREATED = 'io.llmops.dataset.snapshot.created.v1';

/** What a dataset's records are: supervised chat turns, preference pairs, or eval cases. */
export const DATASET_FORMATS = ['chat', 'preference', 'eval'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/**
 * The file formats a snapshot downloads as (one JSON object per line): `openai-chat` for chat
 * datasets, `openai-preference` or `trl-dpo` for preference datasets, `eval` for eval datasets.
 */
export const EXPORT_FORMATS = ['openai-chat', 'openai-preference', 'trl-dpo', 'eval'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A snapshot id: SHA-256 of the canonical JSON of its ordered records, 64 lowercase hex. */
const SNAPSHOT_ID_PATTERN = /^[0-9a-f]{64}$/;

/**
 * `io.llmops.dataset.snapshot.created.v1` on `llmops.dataset-snapshots.v1` (key: dataset name in
 * project `default`, `<project>/<dataset name>` otherwise; see `datasetTopicKey`).
 *
 * The datasets service froze a new immutable snapshot of a dataset. `snapshotId` is the SHA-256 of
 * the canonical JSON of the ordered records, so the same records always give the same id (a rebuild
 * that changes nothing is not a new snapshot and publishes nothing). `sequence` numbers a dataset's
 * snapshots 1, 2, ...; `splits` counts the records of each split and adds up to `records`;
 * `definition` is the dataset's definition (filter, format, split, dedupe, limit, redact, options)
 * as it was when the snapshot was built. The records themselves are downloaded over HTTP.
 */
export const buildDatasetSnapshotCreatedData = (k: SchemaKit) =>
  k
    .object({
      dataset: doc(datasetName(), 'Name of the dataset, unique within its project.'),
      snapshotId: doc(
        patterned('a snapshot id', SNAPSHOT_ID_PATTERN),
        'SHA-256 of the canonical JSON of the ordered records, 64 lowercase hex.',
      ),
      sequence: doc(positiveInt('integer sequence'), "The snapshot's number within its dataset, from 1."),
      format: z.enum(DATASET_FORMATS, { error: `expected one of ${DATASET_FORMATS.join(', ')}` }),
      records: doc(nonNegativeInt(), 'Number of records in the snapshot.'),
      splits: doc(
        z.record(splitName(), nonNegativeInt(), { error: 'expected an object mapping split name to count' }),
        'Split name -> number of records; the counts add up to records.',
      ),
      createdAt: isoDateTime(),
      definition: doc(
        JsonObjectSchema.clone(),
        'The dataset definition the snapshot was built from, as stored.',
      ),
    })
    .refine((d) => Object.values(d.splits).reduce((sum, n) => sum + n, 0) === d.records, {
      path: ['splits'],
      error: 'expected split counts that add up to records',
    });

export const DatasetSnapshotCreatedDataSchema = buildDatasetSnapshotCreatedData(STRICT_KIT);
export type DatasetSnapshotCreatedData = z.infer<typeof DatasetSnapshotCreatedDataSchema>;
