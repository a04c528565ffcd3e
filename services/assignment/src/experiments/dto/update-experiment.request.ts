import { z } from 'zod';
import {
  armNameSchema,
  armsSchema,
  decisionSchema,
  descriptionSchema,
  forcedSchema,
  hashVersionSchema,
  layerSchema,
  seedSchema,
  targetingSchema,
  trafficAllocationSchema,
} from './experiment-fields';

/**
 * PATCH body: every field optional; `null` removes an optional field (layer, targeting, forced,
 * decision). Arms, control, seed, hashVersion and layer can only change while the experiment is a
 * draft; trafficAllocation may only go up while it runs; the decision policy may change until it
 * stops.
 */
export const updateExperimentRequestSchema = z
  .strictObject({
    description: descriptionSchema.optional(),
    arms: armsSchema.optional(),
    control: armNameSchema.optional(),
    trafficAllocation: trafficAllocationSchema.optional(),
    seed: seedSchema.optional(),
    hashVersion: hashVersionSchema.optional(),
    layer: layerSchema.nullable().optional(),
    targeting: targetingSchema.nullable().optional(),
    forced: forcedSchema.nullable().optional(),
    decision: decisionSchema.nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { error: 'expected at least one field to change' });

export type UpdateExperimentRequest = z.infer<typeof updateExperimentRequestSchema>;
