/** Field schemas shared by the experiment request bodies. Every object is strict (unknown fields fail). */
import {
  armName,
  armWeight,
  ExperimentDecisionPolicySchema,
  experimentKey,
  opaqueId,
  parseDecisionPolicy,
  promptName,
  text,
  userId,
} from '@llmops/contracts';
import { SUPPORTED_HASH_VERSIONS } from '@llmops/hashing';
import { openApiSchema } from '@llmops/platform';
import { z } from 'zod';

/** Ids, names, texts and numbers are the experiment snapshot contract's (`@llmops/contracts`). */
export const experimentKeySchema = experimentKey();

/** An arm name (ARM_NAME_PATTERN), also what `control` and `forced` values name. */
export const armNameSchema = armName();

export const armSchema = z.strictObject({
  name: armNameSchema,
  weight: armWeight(),
  prompt: z.strictObject({
    name: promptName(),
    /** An alias, a version number or a hash of the prompt. */
    ref: opaqueId('prompt ref (alias, version number or hash)', 256),
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
  })
  // The weight rule above, for the JSON Schema of the API document (unique names cannot be said there).
  .meta({ contains: { properties: { weight: { exclusiveMinimum: 0 } } } });

export const trafficAllocationSchema = z
  .number({ error: 'expected a number in (0, 1]' })
  .gt(0, { error: 'expected a number in (0, 1]' })
  .max(1, { error: 'expected a number in (0, 1]' });

export const seedSchema = opaqueId('seed', 256);

export const hashVersionSchema = z
  .int({ error: 'expected an integer hash version' })
  .refine((v) => SUPPORTED_HASH_VERSIONS.includes(v), {
    error: `expected a supported hash version (${SUPPORTED_HASH_VERSIONS.join(', ')})`,
  })
  .meta({ enum: [...SUPPORTED_HASH_VERSIONS] });

const unit = (what: string) =>
  z
    .number({ error: `expected ${what} in [0, 1]` })
    .min(0, { error: `expected ${what} in [0, 1]` })
    .max(1, { error: `expected ${what} in [0, 1]` });

export const layerSchema = z.strictObject({
  name: opaqueId('layer name', 128),
  range: z
    .tuple([unit('start'), unit('end')], { error: 'expected [start, end]' })
    .refine(([start, end]) => start < end, { error: 'expected 0 <= start < end <= 1' }),
});

const scalar = z.union([text(), z.number(), z.boolean()], {
  error: 'expected a string, number or boolean',
});

const attributeName = opaqueId('attribute name', 128);

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
  .record(userId(), armNameSchema, { error: 'expected an object mapping user id to arm name' })
  .refine((m) => Object.keys(m).length <= 10_000, { error: 'expected at most 10000 forced users' });

export const descriptionSchema = text('a string', 4096);

/**
 * The decision policy (`decision`), validated by the contract's `parseDecisionPolicy`: its issues
 * keep their field paths under `decision` (`decision.guardrails.0.metric`); defaults are filled in.
 * The API document shows the policy's own schema.
 */
export const decisionSchema = z
  .unknown()
  .transform((raw, ctx) => {
    const parsed = parseDecisionPolicy(raw);
    if (parsed.ok) return parsed.value;
    for (const issue of parsed.issues) {
      ctx.addIssue({ code: 'custom', path: issue.path ? issue.path.split('.') : [], message: issue.message });
    }
    return z.NEVER;
  })
  .meta(openApiSchema(ExperimentDecisionPolicySchema) as Record<string, unknown>);
