import { openApiSchema } from '@llmops/platform';
import { z } from 'zod';

export type ExposureResult =
  { status: 'accepted' } | { status: 'rejected'; error: { code: string; message: string } };

/** Per-item results, in request order. */
export interface RecordExposuresResponse {
  items: ExposureResult[];
}

export const recordExposuresResponseJsonSchema = openApiSchema(
  z.strictObject({
    items: z.array(
      z.strictObject({
        status: z.enum(['accepted', 'rejected']),
        error: z
          .strictObject({ code: z.string(), message: z.string() })
          .optional()
          .describe(
            'Why the item was refused: experiment_not_found, not_in_experiment, exposure_mismatch, ' +
              'assigned_at_out_of_range',
          ),
      }),
    ),
  }),
  'output',
);
