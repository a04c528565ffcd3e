import { v5 } from 'uuid';
import { z } from 'zod';
import { buildDecisionPolicy } from '../decision';
import { doc, isoDateTime, positiveInt, promptRef, type SchemaKit, STRICT_KIT } from './common.schema';
import { armName, experimentKey, opaqueId } from './text.schema';

export const EXPERIMENT_DECISION = 'io.llmops.experiment.decision.v1';

/** What a decision policy concludes, as `evaluateDecision` of `@llmops/stats` computes it. */
export const DECISION_VERDICTS = ['continue', 'winner', 'no-difference', 'guardrail-breach'] as const;
export type DecisionVerdict = (typeof DECISION_VERDICTS)[number];

const verdict = () => z.enum(DECISION_VERDICTS, { error: `expected one of ${DECISION_VERDICTS.join(', ')}` });

const pValue = () =>
  z
    .number({ error: 'expected a p-value in [0, 1]' })
    .min(0, { error: 'expected a p-value in [0, 1]' })
    .max(1, { error: 'expected a p-value in [0, 1]' })
    .nullable();

const finite = () => z.number({ error: 'expected a finite number' }).nullable();

/** Why a statistic is missing (`no-data`, `n<2`, `zero-variance`, ...); null when it exists. */
const reason = () => opaqueId('reason', 64).nullable();

const metricName = () => opaqueId('metric name', 128);

/**
 * `io.llmops.experiment.decision.v1` on `llmops.experiment-decisions.v1` (key: the experiment key in
 * project `default`, `<project>/<experiment key>` otherwise; see `experimentTopicKey`).
 *
 * Analytics evaluated the decision policy of a running experiment in analysis phase `phase` and the
 * verdict changed from `previousVerdict` (null: no verdict was published for the phase before; a
 * phase starts at an unpublished `continue`) to `verdict`:
 * - `winner`: a treatment arm beat control on the primary metric; `winner` names it and its prompt
 *   version (from the experiment snapshot);
 * - `guardrail-breach`: for some arm, a guardrail's breach test rejected "within the margin";
 *   `breaches` lists them;
 * - `no-difference`: every treatment arm is settled without beating control;
 * - `continue`: nothing decided (after a change of the policy took a verdict back).
 * `primary` and `guardrails` are the statistics behind the verdict (always-valid p-values, raw and
 * Holm-adjusted across the treatment arms); `policy` is the policy as evaluated, so consumers read
 * `autoStop` and `autoPromote` from the event itself.
 *
 * The envelope id is {@link experimentDecisionEventId}: the same verdict change of the same phase
 * always has the same id, so an evaluation re-run after a crash or a replay republishes an event
 * consumers already saw.
 */
export const buildExperimentDecisionData = (k: SchemaKit) =>
  k
    .object({
      experimentKey: experimentKey(),
      phase: doc(positiveInt('integer phase'), 'The analysis phase of the experiment the verdict is about.'),
      verdict: verdict(),
      previousVerdict: doc(
        verdict().nullable(),
        'The verdict before this change; null on the first verdict of the phase.',
      ),
      winner: doc(
        k.object({ arm: armName(), prompt: promptRef(k) }).nullable(),
        'The winning arm and its prompt version; set iff verdict is winner.',
      ),
      breaches: doc(
        z
          .array(k.object({ arm: armName(), guardrail: opaqueId('guardrail', 256), metric: metricName() }))
          .max(1000),
        'The breached guardrails per arm; empty unless verdict is guardrail-breach.',
      ),
      control: armName(),
      alpha: z
        .number({ error: 'expected alpha in (0, 0.5]' })
        .gt(0, { error: 'expected alpha in (0, 0.5]' })
        .lte(0.5, { error: 'expected alpha in (0, 0.5]' }),
      primary: doc(
        z
          .array(
            k.object({
              metric: metricName(),
              arm: armName(),
              diff: finite(),
              ci95: z.tuple([z.number(), z.number()]).nullable(),
              pValue: pValue(),
              adjustedPValue: pValue(),
              decided: z.enum(['better', 'worse']).nullable(),
              futilityPValue: pValue(),
              adjustedFutilityPValue: pValue(),
              reason: reason(),
            }),
          )
          .max(1000),
        'Per treatment arm: the primary metric against control (always-valid p-value, running minimum, raw and Holm-adjusted).',
      ),
      guardrails: doc(
        z
          .array(
            k.object({
              guardrail: opaqueId('guardrail', 256),
              metric: metricName(),
              arm: armName(),
              scale: z.enum(['difference', 'log-ratio']).nullable(),
              diff: finite(),
              relativeChange: finite(),
              breachPValue: pValue(),
              adjustedBreachPValue: pValue(),
              nonInferiorityPValue: pValue(),
              adjustedNonInferiorityPValue: pValue(),
              breached: z.boolean(),
              reason: reason(),
            }),
          )
          .max(20_000),
        'Per guardrail and treatment arm: the one-sided always-valid non-inferiority test with its margin.',
      ),
      policy: doc(buildDecisionPolicy(k), 'The decision policy as evaluated.'),
      evaluatedAt: isoDateTime(),
    })
    .superRefine((d, ctx) => {
      if ((d.verdict === 'winner') !== (d.winner !== null)) {
        ctx.addIssue({
          code: 'custom',
          path: ['winner'],
          message: 'expected a winner iff verdict is winner',
        });
      }
      if ((d.verdict === 'guardrail-breach') !== d.breaches.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['breaches'],
          message: 'expected breaches iff verdict is guardrail-breach',
        });
      }
    });

export const ExperimentDecisionDataSchema = buildExperimentDecisionData(STRICT_KIT);
export type ExperimentDecisionData = z.infer<typeof ExperimentDecisionDataSchema>;
export type ExperimentDecisionDataInput = z.input<typeof ExperimentDecisionDataSchema>;

const DECISION_EVENT_NAMESPACE = '0d9c54a3-6f0e-4b8e-9a41-2c7d3f5e8b16';

/**
 * The envelope id of a decision event: a UUIDv5 of `(project, experimentKey, phase, verdict,
 * previousVerdict, winner arm)`, so re-evaluating the same data (a retry after a crash, a replay of
 * the input topics) publishes the same id and consumers that keep the ids they applied act once.
 */
export function experimentDecisionEventId(
  project: string,
  d: Pick<ExperimentDecisionData, 'experimentKey' | 'phase' | 'verdict' | 'previousVerdict'> & {
    winner: { arm: string } | null;
  },
): string {
  return v5(
    JSON.stringify([project, d.experimentKey, d.phase, d.verdict, d.previousVerdict, d.winner?.arm ?? null]),
    DECISION_EVENT_NAMESPACE,
  );
}
