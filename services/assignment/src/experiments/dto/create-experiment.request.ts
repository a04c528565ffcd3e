import { z } from 'zod';
import {
  armNameSchema,
  armsSchema,
  decisionSchema,
  descriptionSchema,
  experimentKeySchema,
  forcedSchema,
  hashVersionSchema,
  layerSchema,
  seedSchema,
  targetingSchema,
  trafficAllocationSchema,
} from './experiment-fields';
import { autoPromoteIssue, checkArmReferences } from './arm-references';

export const createExperimentRequestSchema = z
  .strictObject({
    // `GET /v1/experiments/snapshots` is the snapshots route: an experiment of that key could not be read.
    key: experimentKeySchema.refine((k) => k !== 'snapshots', {
      error: '"snapshots" is reserved (GET /v1/experiments/snapshots); choose another key',
    }),
    description: descriptionSchema.default(''),
    arms: armsSchema,
    /** Name of the control arm; default: the first arm. */
    control: armNameSchema.optional(),
    trafficAllocation: trafficAllocationSchema.default(1),
    /** Hashed in place of the reference design's experiment name; default: `key`. */
    seed: seedSchema.optional(),
    hashVersion: hashVersionSchema.default(1),
    layer: layerSchema.optional(),
    targeting: targetingSchema.optional(),
    forced: forcedSchema.optional(),
    /** The decision policy analytics evaluates and this service and the registry act on; absent: none. */
    decision: decisionSchema.optional(),
  })
  .superRefine((body, ctx) => {
    checkArmReferences(body, ctx);
    const issue = Array.isArray(body.arms) ? autoPromoteIssue(body.decision, body.arms) : null;
    if (issue) ctx.addIssue({ code: 'custom', path: issue.path.split('.'), message: issue.message });
  });

export type CreateExperimentRequest = z.infer<typeof createExperimentRequestSchema>;
