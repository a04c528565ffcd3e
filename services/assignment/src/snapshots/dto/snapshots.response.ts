import { ExperimentSnapshotSchema, type ExperimentSnapshot } from '@llmops/contracts';
import { openApiSchema } from '@llmops/platform';
import { z } from 'zod';

/** Every experiment of the caller's project, as the experiments topic carries it. */
export interface SnapshotsResponse {
  project: string;
  /** Changes whenever any experiment of the project changes; the ETag is `"<version>"`. */
  version: string;
  experiments: ExperimentSnapshot[];
}

export const snapshotsResponseJsonSchema = openApiSchema(
  z.strictObject({
    project: z.string(),
    version: z.string().describe('Changes whenever any experiment of the project changes (the ETag)'),
    experiments: z.array(ExperimentSnapshotSchema).describe('Every experiment, running or not'),
  }),
  'output',
);
