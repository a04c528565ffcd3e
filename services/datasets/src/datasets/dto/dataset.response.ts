import { z } from 'zod';
import type { DatasetDoc, SnapshotDoc } from '../../persistence/datasets.schemas';
import { type DatasetDefinition, datasetDefinitionSchema } from './dataset-definition.request';

export const datasetResponseSchema = datasetDefinitionSchema.and(
  z.object({
    createdAt: z.string().describe('ISO 8601'),
    createdBy: z.string().describe('Key id that created the dataset'),
  }),
);
export type DatasetResponse = DatasetDefinition & { createdAt: string; createdBy: string };

export const datasetListResponseSchema = z.object({
  items: z.array(datasetResponseSchema),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page'),
});

export function toDatasetResponse(doc: DatasetDoc): DatasetResponse {
  return {
    name: doc.name,
    ...(doc.definition as Omit<DatasetDefinition, 'name'>),
    createdAt: doc.createdAt.toISOString(),
    createdBy: doc.createdBy,
  };
}

export const snapshotResponseSchema = z.object({
  dataset: z.string(),
  id: z.string().describe('SHA-256 (hex) of the canonical JSON of the ordered records'),
  sequence: z.int().describe("The snapshot's number in its dataset, from 1"),
  format: z.string(),
  records: z.int(),
  splits: z.record(z.string(), z.int()).describe('Records per split'),
  definition: z.record(z.string(), z.unknown()).describe('The definition the snapshot was built from'),
  createdAt: z.string().describe('ISO 8601'),
  createdBy: z.string().describe('Key id that took the snapshot'),
});
export type SnapshotResponse = z.infer<typeof snapshotResponseSchema>;

export const snapshotListResponseSchema = z.object({
  items: z.array(snapshotResponseSchema),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page'),
});

export function toSnapshotResponse(doc: SnapshotDoc): SnapshotResponse {
  return {
    dataset: doc.dataset,
    id: doc.id,
    sequence: doc.sequence,
    format: doc.format,
    records: doc.records,
    splits: doc.splits,
    definition: doc.definition,
    createdAt: doc.createdAt.toISOString(),
    createdBy: doc.createdBy,
  };
}
