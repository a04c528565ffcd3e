import { z } from 'zod';

export const renderPromptRequestSchema = z.strictObject({
  ref: z
    .string({ error: 'expected a version ref (hash, hash prefix, version number or alias)' })
    .min(1, { error: 'expected a non-empty ref' })
    .max(128, { error: 'expected at most 128 characters' }),
  variables: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]), {
      error: 'expected an object of string, number or boolean values',
    })
    .optional(),
});

export type RenderPromptRequest = z.infer<typeof renderPromptRequestSchema>;
