import { z } from 'zod';
import { isoDateTime, nonEmpty, type SchemaKit, STRICT_KIT } from './common.schema';
import { opaqueId } from './text.schema';
import { buildExperimentSnapshot } from './experiment-snapshot.schema';

export const EXPERIMENT_UPDATED = 'io.llmops.experiment.updated.v1';

/**
 * `io.llmops.experiment.updated.v1` on `llmops.experiments.v1` (key: experiment key, compacted).
 * The full snapshot after a change other than a status change; `changes` names the top-level snapshot
 * fields that changed (e.g. `["arms", "trafficAllocation"]`), for audit and cache invalidation only:
 * consumers rebuild state from `experiment`, never from a diff.
 */
export const buildExperimentUpdatedData = (k: SchemaKit) =>
  k.object({
    experiment: buildExperimentSnapshot(k),
    changedAt: isoDateTime(),
    actor: opaqueId('actor', 256).optional(),
    changes: z.array(nonEmpty('field name', 128), { error: 'expected an array of field names' }).optional(),
  });

export const ExperimentUpdatedDataSchema = buildExperimentUpdatedData(STRICT_KIT);
export type ExperimentUpdatedData = z.infer<typeof ExperimentUpdatedDataSchema>;
