import { EXPORT_FORMATS, SPLIT_NAME_PATTERN } from '@llmops/contracts';
import { z } from 'zod';

export const downloadQuerySchema = z.strictObject({
  split: z
    .string()
    .regex(SPLIT_NAME_PATTERN, {
      error: 'expected a split name (a-z first, then a-z, 0-9, _ or -; at most 32)',
    })
    .default('train')
    .describe('The split to download: train (the default) or a split of the dataset definition'),
  format: z
    .enum(EXPORT_FORMATS, { error: `expected one of ${EXPORT_FORMATS.join(', ')}` })
    .optional()
    .describe(
      'File format; default openai-chat for chat datasets, openai-preference for preference datasets (or trl-dpo), eval for eval datasets',
    ),
});

export type DownloadQuery = z.infer<typeof downloadQuerySchema>;
