import { z } from 'zod';
import { isoDateTime, type SchemaKit, STRICT_KIT } from './common.schema';
import { opaqueId } from './text.schema';
import { buildExperimentSnapshot, experimentStatus } from './experiment-snapshot.schema';

export const EXPERIMENT_STATUS_CHANGED = 'io.llmops.experiment.status-changed.v1';

/**
 * `io.llmops.experiment.status-changed.v1` on `llmops.experiments.v1` (key: experiment key, compacted).
 * The full snapshot after a status transition (`experiment.status` is the new status,
 * `previousStatus` the old one).
 */
export const buildExperimentStatusChangedData = (k: SchemaKit) =>
  k.object({
    experiment: buildExperimentSnapshot(k),
    changedAt: isoDateTime(),
    actor: opaqueId('actor', 256).optional(),
    previousStatus: experimentStatus().optional(),
  });

export const ExperimentStatusChangedDataSchema = buildExperimentStatusChangedData(STRICT_KIT);
export type ExperimentStatusChangedData = z.infer<typeof ExperimentStatusChangedDataSchema>;
