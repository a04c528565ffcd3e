/** Field schemas shared by the experiment request bodies. Every object is strict (unknown fields fail). */
import { EXPERIMENT_KEY_PATTERN } from '@llmops/contracts';
import { isValidUserId, MAX_USER_ID_LENGTH, SUPPORTED_HASH_VERSIONS } from '@llmops/hashing';
import { z } from 'zod';

export const experimentKeySchema = z
  .string({ error: 'expected an experiment key' })
  .regex(EXPERIMENT_KEY_PATTERN, { error: 'expected a key matching ^[a-z0-9][a-z0-9_.-]{0,127}$' });

const armName = z
  .string({ error: 'expected an arm name' })
  .min(1, { error: 'expected a non-empty arm name' })
  .max(128, { error: 'expected at most 128 characters' });

export const armSchema = z.strictObject({
  name: armName,
  weight: z
    .number({ error: 'expected a finite weight >= 0' })
    .min(0, { error: 'expected a finite weight >= 0' }),
  prompt: z.strictObject({
    name: z.string({ error: 'expected a prompt name' }).min(1, { error: 'expected a prompt name' }).max(256),
    ref: z
      .string({ error: 'expected a prompt ref (alias, version number or hash)' })
      .min(1, { error: 'expected a prompt ref (alias, version number or hash)' })
      .max(256),
  }),
});
export type ArmInput = z.infer<typeof armSchema>;

/**
 * Most arms one experiment may have (create, update, new phase). Every arm is a label value of
 * analytics' per-arm series and a row of its results, so the count bounds both.
 */
export const MAX_ARMS_PER_EXPERIMENT = 20;

export const armsSchema = z
  .array(armSchema, { error: 'expected an array of arms' })
  .min(2, { error: 'expected at least 2 arms' })
  .max(MAX_ARMS_PER_EXPERIMENT, { error: `expected at most ${MAX_ARMS_PER_EXPERIMENT} arms` })
  .superRefine((arms, ctx) => {
    const seen = new Set<string>();
    arms.forEach((a, i) => {
      if (seen.has(a.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate arm name "${a.name}"` });
      seen.add(a.name);
    });
    if (arms.every((a) => a.weight === 0)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'expected at least one arm with weight > 0' });
    }
  });

export const trafficAllocationSchema = z
  .number({ error: 'expected a number in (0, 1]' })
  .gt(0, { error: 'expected a number in (0, 1]' })
  .max(1, { error: 'expected a number in (0, 1]' });

export const seedSchema = z
  .string({ error: 'expected a non-empty seed string' })
  .min(1, { error: 'expected a non-empty seed string' })
  .max(256, { error: 'expected at most 256 characters' })
  .refine((s) => isValidUserId(s), { error: 'expected well-formed UTF-16 (no lone surrogates)' });

export const hashVersionSchema = z
  .int({ error: 'expected an integer hash version' })
  .refine((v) => SUPPORTED_HASH_VERSIONS.includes(v), {
    error: `expected a supported hash version (${SUPPORTED_HASH_VERSIONS.join(', ')})`,
  });

const unit = (what: string) =>
  z
    .number({ error: `expected ${what} in [0, 1]` })
    .min(0, { error: `expected ${what} in [0, 1]` })
    .max(1, { error: `expected ${what} in [0, 1]` });

export const layerSchema = z.strictObject({
  name: z
    .string({ error: 'expected a layer name' })
    .min(1, { error: 'expected a non-empty layer name' })
    .max(128, { error: 'expected at most 128 characters' })
    .refine((s) => isValidUserId(s), { error: 'expected well-formed UTF-16 (no lone surrogates)' }),
  range: z
    .tuple([unit('start'), unit('end')], { error: 'expected [start, end]' })
    .refine(([start, end]) => start < end, { error: 'expected 0 <= start < end <= 1' }),
});

const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'expected a string, number or boolean',
});

const attributeName = z
  .string({ error: 'expected an attribute name' })
  .min(1, { error: 'expected a non-empty attribute name' })
  .max(128, { error: 'expected at most 128 characters' });

export const targetingRuleSchema = z.discriminatedUnion(
  'op',
  [
    z.strictObject({ attribute: attributeName, op: z.literal('equals'), value: scalar }),
    z.strictObject({
      attribute: attributeName,
      op: z.enum(['in', 'notIn']),
      values: z.array(scalar, { error: 'expected an array of strings, numbers or booleans' }).max(10_000),
    }),
  ],
  {
    error: 'expected a rule { attribute, op: "equals", value } or { attribute, op: "in" | "notIn", values }',
  },
);

export const targetingSchema = z
  .array(targetingRuleSchema, { error: 'expected an array of targeting rules (combined with AND)' })
  .max(100, { error: 'expected at most 100 rules' });

export const forcedSchema = z
  .record(
    z
      .string()
      .min(1, { error: 'expected a non-empty user id' })
      .max(MAX_USER_ID_LENGTH, { error: `expected a user id of at most ${MAX_USER_ID_LENGTH} characters` })
      .refine((s) => isValidUserId(s), { error: 'expected well-formed UTF-16 (no lone surrogates)' }),
    armName,
    { error: 'expected an object mapping user id to arm name' },
  )
  .refine((m) => Object.keys(m).length <= 10_000, { error: 'expected at most 10000 forced users' });

export const descriptionSchema = z
  .string({ error: 'expected a string' })
  .max(4096, { error: 'expected at most 4096 characters' });
