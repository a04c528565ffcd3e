import { z } from 'zod';
import { type SchemaKit, STRICT_KIT } from './events/common.schema';
import { aliasName, SCORE_NAME_PATTERN } from './events/text.schema';
import { fromZodIssues, type ContractIssue } from './validation-error';

/**
 * An experiment's decision policy (the optional `decision` object of experiment create and patch):
 * which metric decides, in which direction, at which α, which guardrails may stop the experiment,
 * and what happens automatically on a verdict. `evaluateDecision` in `@llmops/stats` computes the
 * verdict from it; its policy type is a subset of this one.
 */

/** Primary metrics besides `score:<name>`. */
export const DECISION_PRIMARY_METRICS = ['rating', 'thumbs'] as const;
/** Guardrail metrics besides `score:<name>`; for all of them higher is worse unless a `…Decrease` margin says otherwise. */
export const DECISION_GUARDRAIL_METRICS = ['latencyMs', 'costUsd', 'thumbsDownRate'] as const;

const SCORE_METRIC_PATTERN = new RegExp(`^score:${SCORE_NAME_PATTERN.source.slice(1)}`);

export function isDecisionPrimaryMetric(metric: string): boolean {
  return (
    (DECISION_PRIMARY_METRICS as readonly string[]).includes(metric) || SCORE_METRIC_PATTERN.test(metric)
  );
}

export function isDecisionGuardrailMetric(metric: string): boolean {
  return (
    (DECISION_GUARDRAIL_METRICS as readonly string[]).includes(metric) || SCORE_METRIC_PATTERN.test(metric)
  );
}

const MARGIN_FIELDS = [
  'maxAbsoluteIncrease',
  'maxRelativeIncrease',
  'maxAbsoluteDecrease',
  'maxRelativeDecrease',
] as const;

/** Most guardrails one policy may hold. */
export const MAX_DECISION_GUARDRAILS = 20;

const margin = () =>
  z.number({ error: 'expected a finite number ≥ 0' }).nonnegative({ error: 'expected a number ≥ 0' });

const buildGuardrail = (k: SchemaKit) =>
  k
    .object({
      metric: z.string().refine(isDecisionGuardrailMetric, {
        error: 'unknown metric: expected latencyMs, costUsd, thumbsDownRate or score:<name>',
      }),
      maxAbsoluteIncrease: margin().optional(),
      maxRelativeIncrease: margin().optional(),
      maxAbsoluteDecrease: margin().optional(),
      maxRelativeDecrease: margin().lt(1, { error: 'expected a fraction below 1' }).optional(),
    })
    .superRefine((g, ctx) => {
      const set = MARGIN_FIELDS.filter((f) => g[f] !== undefined);
      if (set.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message: `expected exactly one of ${MARGIN_FIELDS.join(', ')}${set.length > 1 ? `; got ${set.join(', ')}` : ''}`,
        });
      }
    });

/**
 * The policy schema built with a kit: `STRICT_KIT` for requests and producers, `TOLERANT_KIT` for
 * consumers reading snapshots and decision events (unknown fields of a newer minor are stripped).
 */
export const buildDecisionPolicy = (k: SchemaKit) =>
  k.object({
    primary: z.string().refine(isDecisionPrimaryMetric, {
      error: 'unknown metric: expected rating, thumbs or score:<name>',
    }),
    /** Which way the primary metric improves. */
    direction: z.enum(['increase', 'decrease']),
    alpha: z
      .number({ error: 'expected a number in (0, 0.5]' })
      .gt(0, { error: 'expected alpha in (0, 0.5]' })
      .lte(0.5, { error: 'expected alpha in (0, 0.5]' })
      .default(0.05),
    /** Smallest improvement worth having, in the primary metric's units; enables `no-difference`. */
    minimumDetectableEffect: z.number({ error: 'expected a positive number' }).positive().optional(),
    guardrails: z
      .array(buildGuardrail(k))
      .max(MAX_DECISION_GUARDRAILS)
      .superRefine((guardrails, ctx) => {
        const seen = new Set<string>();
        guardrails.forEach((g, i) => {
          const key = `${g.metric} ${MARGIN_FIELDS.filter((f) => g[f] !== undefined).join(' ')}`;
          if (seen.has(key)) {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `a second ${key} guardrail on the same metric`,
            });
          }
          seen.add(key);
        });
      })
      .default([]),
    /** Stop the experiment automatically on a guardrail breach, and/or when the primary test decides. */
    autoStop: k
      .object({
        onGuardrailBreach: z.boolean().default(false),
        onDecision: z.boolean().default(false),
      })
      .default({ onGuardrailBreach: false, onDecision: false }),
    /** On a `winner`, move this alias of the arms' prompt to the winning version. */
    autoPromote: k.object({ alias: aliasName() }).optional(),
  });

export const ExperimentDecisionPolicySchema = buildDecisionPolicy(STRICT_KIT);

export type ExperimentDecisionPolicy = z.output<typeof ExperimentDecisionPolicySchema>;
export type ExperimentDecisionPolicyInput = z.input<typeof ExperimentDecisionPolicySchema>;

/**
 * Validates a decision policy; issue paths start with `prefix` (e.g. `['decision']` inside a
 * request body), so a 400 can name `decision.guardrails.0.metric`. Whether `autoPromote` fits the
 * experiment's arms (prompt versions of one prompt name) needs the experiment and is checked where
 * it is created or patched.
 */
export function parseDecisionPolicy(
  raw: unknown,
  prefix: readonly PropertyKey[] = [],
): { ok: true; value: ExperimentDecisionPolicy } | { ok: false; issues: ContractIssue[] } {
  const parsed = ExperimentDecisionPolicySchema.safeParse(raw);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, issues: fromZodIssues(parsed.error.issues, raw, prefix) };
}
