import {
  aliasName,
  armName,
  DATASET_FORMATS,
  datasetName,
  experimentKey,
  FEEDBACK_SOURCES,
  isoDateTime,
  modelName,
  nonEmptyText,
  promptHash,
  promptName,
  scoreName,
  splitName,
  THUMBS,
} from '@llmops/contracts';
import { z } from 'zod';
import { DEFAULT_EVAL_MIN_RATING, DEFAULT_RATING_MARGIN, TRAIN_SPLIT } from '../../domain/records';

/** The largest `limit` a dataset may ask for. */
export const MAX_DATASET_LIMIT = 10_000_000;

const finite = (what: string) => z.number({ error: `expected a finite number (${what})` });

const range = z
  .strictObject({ min: finite('lowest value').optional(), max: finite('highest value').optional() })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
    path: ['max'],
    error: 'expected max >= min',
  });

const promptFilter = z
  .strictObject({
    name: promptName().optional().describe('Prompt name (generation.prompt.name).'),
    hash: promptHash().optional().describe('Prompt version hash (generation.prompt.hash).'),
    alias: aliasName()
      .optional()
      .describe('The version the alias points at when the snapshot is taken; needs name, not with hash.'),
  })
  .superRefine((p, ctx) => {
    if (p.alias !== undefined && p.name === undefined) {
      ctx.addIssue({ code: 'custom', path: ['alias'], message: 'expected name together with alias' });
    }
    if (p.alias !== undefined && p.hash !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['hash'], message: 'expected either hash or alias, not both' });
    }
  });

export const datasetFilterSchema = z
  .strictObject({
    prompt: promptFilter.optional(),
    experiment: experimentKey().optional(),
    arm: armName().optional(),
    model: modelName().optional(),
    from: isoDateTime().optional().describe('Generations with timestamp >= from.'),
    to: isoDateTime().optional().describe('Generations with timestamp < to.'),
    minRating: finite('rating').optional().describe('Current rating >= minRating.'),
    maxRating: finite('rating').optional().describe('Current rating <= maxRating.'),
    thumbs: z.enum(THUMBS, { error: 'expected one of up, down' }).optional(),
    hasCorrection: z.boolean({ error: 'expected a boolean' }).optional(),
    source: z
      .enum(FEEDBACK_SOURCES, { error: 'expected one of user, judge, reviewer' })
      .optional()
      .describe('Has a current feedback item from this source.'),
    scores: z
      .record(scoreName(), range, { error: 'expected an object mapping score name to {min, max}' })
      .refine((s) => Object.keys(s).length <= 32, { error: 'expected at most 32 score filters' })
      .optional()
      .describe('Current score per name within [min, max].'),
  })
  .superRefine((f, ctx) => {
    if (f.from !== undefined && f.to !== undefined && Date.parse(f.from) >= Date.parse(f.to)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'expected to later than from' });
    }
    if (f.minRating !== undefined && f.maxRating !== undefined && f.minRating > f.maxRating) {
      ctx.addIssue({ code: 'custom', path: ['maxRating'], message: 'expected maxRating >= minRating' });
    }
  });

const splitSchema = z
  .record(
    splitName(),
    z
      .number({ error: 'expected a fraction between 0 and 1 (exclusive)' })
      .gt(0, { error: 'expected a fraction between 0 and 1 (exclusive)' })
      .lt(1, { error: 'expected a fraction between 0 and 1 (exclusive)' }),
    { error: 'expected an object mapping split name to fraction' },
  )
  .superRefine((split, ctx) => {
    if (TRAIN_SPLIT in split) {
      ctx.addIssue({
        code: 'custom',
        path: [TRAIN_SPLIT],
        message: 'train is what the other splits leave; name the other splits only',
      });
    }
    const names = Object.keys(split);
    if (names.length > 16) ctx.addIssue({ code: 'custom', path: [], message: 'expected at most 16 splits' });
    // A little slack for decimal fractions that add up to 1 (0.1 + 0.2 + 0.7).
    if (Object.values(split).reduce((sum, f) => sum + f, 0) > 1 + 1e-9) {
      ctx.addIssue({ code: 'custom', path: [], message: 'expected fractions that add up to at most 1' });
    }
  });

export const datasetDefinitionSchema = z
  .strictObject({
    name: datasetName().describe('Unique in the project: lowercase letters, digits, ".", "_", "-"; 1-63.'),
    description: nonEmptyText('description', 1_024).optional(),
    format: z.enum(DATASET_FORMATS, { error: `expected one of ${DATASET_FORMATS.join(', ')}` }),
    filter: datasetFilterSchema.optional().describe('Which examples; none: every example with an input.'),
    split: splitSchema
      .optional()
      .describe('Split name -> fraction of the records, e.g. {"validation": 0.1}; the rest is train.'),
    dedupe: z
      .boolean({ error: 'expected a boolean' })
      .optional()
      .describe('One record per input (the first in snapshot order).'),
    limit: z
      .int({ error: `expected an integer 1-${MAX_DATASET_LIMIT}` })
      .min(1, { error: `expected an integer 1-${MAX_DATASET_LIMIT}` })
      .max(MAX_DATASET_LIMIT, { error: `expected an integer 1-${MAX_DATASET_LIMIT}` })
      .optional()
      .describe('At most this many records (the first in snapshot order).'),
    redact: z
      .boolean({ error: 'expected a boolean' })
      .optional()
      .describe('Mask e-mail addresses and phone numbers in every text of the records.'),
    preference: z
      .strictObject({
        ratingMargin: z
          .number({ error: 'expected a number > 0' })
          .gt(0, { error: 'expected a number > 0' })
          .optional()
          .describe(`Least rating difference of a rating pair (default ${DEFAULT_RATING_MARGIN}).`),
      })
      .optional()
      .describe('Options of format preference.'),
    eval: z
      .strictObject({
        minRating: finite('rating')
          .optional()
          .describe(
            `Least rating for which the output is the expected answer when there is no correction (default ${DEFAULT_EVAL_MIN_RATING}).`,
          ),
      })
      .optional()
      .describe('Options of format eval.'),
  })
  .superRefine((d, ctx) => {
    if (d.preference !== undefined && d.format !== 'preference') {
      ctx.addIssue({ code: 'custom', path: ['preference'], message: 'expected only with format preference' });
    }
    if (d.eval !== undefined && d.format !== 'eval') {
      ctx.addIssue({ code: 'custom', path: ['eval'], message: 'expected only with format eval' });
    }
  });

export type DatasetDefinition = z.infer<typeof datasetDefinitionSchema>;
export type DatasetFilter = z.infer<typeof datasetFilterSchema>;
