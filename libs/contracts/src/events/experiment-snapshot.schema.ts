import { z } from 'zod';
import { buildDecisionPolicy } from '../decision';
import { armWeight } from './bounds.schema';
import {
  doc,
  isoDateTime,
  positiveInt,
  promptHash,
  type SchemaKit,
  STRICT_KIT,
  userId,
} from './common.schema';
import { armName, experimentKey, opaqueId, promptName, text } from './text.schema';

export const EXPERIMENT_STATUSES = ['draft', 'running', 'paused', 'stopped'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

export const experimentStatus = () =>
  z.enum(EXPERIMENT_STATUSES, { error: 'expected one of draft, running, paused, stopped' });

const unitInterval = (what: string) =>
  z
    .number({ error: `expected ${what} as a number in [0, 1]` })
    .min(0, { error: `expected ${what} >= 0` })
    .max(1, {
      error: `expected ${what} <= 1`,
    });

/**
 * The complete state of an experiment. Every experiment event carries one, so the topic can be
 * compacted: the newest record per experiment key is enough to rebuild state. `revision` increases by
 * one per change; a consumer keeps the snapshot with the highest revision and ignores older ones
 * (e.g. after a replay).
 *
 * Assignment is deterministic: `hash(seed, hashVersion, userId)` picks a bucket; `trafficAllocation`
 * and the optional `layer` range decide whether the user is in the experiment, arm `weight`s split
 * the allocated traffic. `forced` maps a user id to an arm name and wins over hashing. Bumping `phase`
 * starts a new analysis period (analytics never mixes phases). `decision` is the experiment's
 * decision policy (absent: none), which analytics evaluates and the decision's consumers act on.
 */
export const buildExperimentSnapshot = (k: SchemaKit) => {
  const arm = k.object({
    name: armName(),
    weight: armWeight(),
    prompt: k.object({
      name: promptName(),
      /** What the experiment author wrote: an alias (`production`), a version number or a hash. */
      ref: opaqueId('prompt ref', 256),
      /** The hash `ref` resolved to when the experiment was last changed. */
      hash: promptHash(),
    }),
  });

  const targetingRule = z.discriminatedUnion(
    'op',
    [
      k.object({
        attribute: opaqueId('attribute name', 128),
        op: z.literal('equals'),
        value: z.union([text(), z.number(), z.boolean()], {
          error: 'expected a string, number or boolean',
        }),
      }),
      k.object({
        attribute: opaqueId('attribute name', 128),
        op: z.enum(['in', 'notIn']),
        values: z.array(z.union([text(), z.number(), z.boolean()]), {
          error: 'expected an array of strings, numbers or booleans',
        }),
      }),
    ],
    { error: 'expected a targeting rule with op equals (value) or in / notIn (values)' },
  );

  return k
    .object({
      key: experimentKey(),
      description: text('a string', 4096),
      status: experimentStatus(),
      phase: doc(positiveInt('integer phase'), 'Analysis period; bumped when results must restart.'),
      seed: opaqueId('seed', 256),
      hashVersion: positiveInt('integer hash version'),
      trafficAllocation: z
        .number({ error: 'expected a number in (0, 1]' })
        .gt(0, { error: 'expected a number in (0, 1]' })
        .max(1, { error: 'expected a number in (0, 1]' }),
      control: armName(),
      arms: z
        .array(arm, { error: 'expected an array of arms' })
        .min(2, { error: 'expected at least 2 arms' })
        .superRefine((arms, ctx) => {
          const seen = new Set<string>();
          arms.forEach((a, i) => {
            if (seen.has(a.name)) {
              ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate arm name "${a.name}"` });
            }
            seen.add(a.name);
          });
          if (arms.length > 0 && arms.every((a) => a.weight === 0)) {
            ctx.addIssue({ code: 'custom', path: [], message: 'expected at least one arm with weight > 0' });
          }
        }),
      layer: k
        .object({
          name: opaqueId('layer name', 128),
          range: z
            .tuple([unitInterval('start'), unitInterval('end')], { error: 'expected [start, end]' })
            .refine(([start, end]) => start < end, { error: 'expected 0 <= start < end <= 1' }),
        })
        .optional(),
      targeting: z.array(targetingRule, { error: 'expected an array of targeting rules' }).optional(),
      forced: z
        .record(userId(), armName(), { error: 'expected an object mapping user id to arm name' })
        .optional(),
      decision: doc(
        buildDecisionPolicy(k).optional(),
        'Decision policy (primary metric, guardrails, autoStop, autoPromote); absent means none.',
      ),
      revision: doc(
        positiveInt('integer revision'),
        'Incremented per change; consumers keep the snapshot with the highest revision.',
      ),
      createdAt: isoDateTime(),
      updatedAt: isoDateTime(),
    })
    .superRefine((exp, ctx) => {
      if (!Array.isArray(exp.arms)) return;
      const names = new Set(exp.arms.map((a) => a.name));
      if (typeof exp.control === 'string' && !names.has(exp.control)) {
        ctx.addIssue({
          code: 'custom',
          path: ['control'],
          message: `control "${exp.control}" is not one of the arms`,
        });
      }
      for (const [user, arm] of Object.entries(exp.forced ?? {})) {
        if (!names.has(arm)) {
          ctx.addIssue({
            code: 'custom',
            path: ['forced', user],
            message: `arm "${arm}" is not one of the arms`,
          });
        }
      }
    });
};

export const ExperimentSnapshotSchema = buildExperimentSnapshot(STRICT_KIT);
export type ExperimentSnapshot = z.infer<typeof ExperimentSnapshotSchema>;
