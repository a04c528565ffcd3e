import { z } from 'zod';
import { isoDateTime, type SchemaKit, STRICT_KIT } from './common.schema';
import { opaqueId } from './text.schema';
import { buildExperimentSnapshot } from './experiment-snapshot.schema';

export const EXPERIMENT_CREATED = 'io.llmops.experiment.created.v1';

/**
 * `io.llmops.experiment.created.v1` on `llmops.experiments.v1` (key: experiment key, compacted).
 * The first snapshot of an experiment (`experiment.revision` is normally 1).
 */
export const buildExperimentCreatedData = (k: SchemaKit) =>
  k.object({
    experiment: buildExperimentSnapshot(k),
    changedAt: isoDateTime(),
    actor: opaqueId('actor', 256).optional(),
  });

export const ExperimentCreatedDataSchema = buildExperimentCreatedData(STRICT_KIT);
export type ExperimentCreatedData = z.infer<typeof ExperimentCreatedDataSchema>;
