import { opaqueId, text } from '@llmops/contracts';
import { z } from 'zod';

export const renderPromptRequestSchema = z.strictObject({
  ref: opaqueId('version ref (hash, hash prefix, version number or alias)', 128),
  variables: z
    .record(text('a variable name'), z.union([text(), z.number(), z.boolean()]), {
      error: 'expected an object of string, number or boolean values',
    })
    .optional(),
});

export type RenderPromptRequest = z.infer<typeof renderPromptRequestSchema>;
