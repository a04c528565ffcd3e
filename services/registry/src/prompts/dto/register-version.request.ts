import { z } from 'zod';
import { promptMetadataSchema, promptSpecSchema } from '../../domain/prompt-spec';

export const registerVersionRequestSchema = z.strictObject({
  spec: promptSpecSchema,
  metadata: promptMetadataSchema.optional(),
});

export type RegisterVersionRequest = z.infer<typeof registerVersionRequestSchema>;
