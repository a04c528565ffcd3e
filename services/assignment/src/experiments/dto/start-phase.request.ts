import { z } from 'zod';
import {
  armNameSchema,
  armsSchema,
  hashVersionSchema,
  layerSchema,
  seedSchema,
  trafficAllocationSchema,
} from './experiment-fields';

/**
 * A new phase of a started experiment: a new seed (default `<key>#phase-<n>`), and optionally new
 * arms, weights, control, hashVersion, trafficAllocation (may go down) and layer.
 */
export const startPhaseRequestSchema = z.strictObject({
  seed: seedSchema.optional(),
  arms: armsSchema.optional(),
  control: armNameSchema.optional(),
  hashVersion: hashVersionSchema.optional(),
  trafficAllocation: trafficAllocationSchema.optional(),
  layer: layerSchema.nullable().optional(),
});

export type StartPhaseRequest = z.infer<typeof startPhaseRequestSchema>;
