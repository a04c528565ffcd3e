import type { ExperimentDecisionData } from '@llmops/contracts';
import { LOGGER, METRICS_REGISTRY, type RequestContext } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { ChangeStatusUseCase } from '../experiments/change-status.usecase';
import { ExperimentNotFoundError } from '../experiments/experiments.errors';

/**
 * What a decision did: `stopped` the experiment; `no-action` (the verdict and the policy do not
 * stop it); ignored because the experiment is in another phase (`other-phase`) or not running
 * (`not-running`: already stopped, paused or a draft), or unknown in its project.
 */
export type DecisionOutcome = 'stopped' | 'no-action' | 'other-phase' | 'not-running' | 'unknown-experiment';

/**
 * Whether a verdict stops its experiment: a `winner` always; a `guardrail-breach` when the policy
 * it was evaluated with says `autoStop.onGuardrailBreach`; a `no-difference` when it says
 * `autoStop.onDecision`; never a `continue`.
 */
export function stopsExperiment(decision: Pick<ExperimentDecisionData, 'verdict' | 'policy'>): boolean {
  switch (decision.verdict) {
    case 'winner':
      return true;
    case 'guardrail-breach':
      return decision.policy.autoStop.onGuardrailBreach;
    case 'no-difference':
      return decision.policy.autoStop.onDecision;
    case 'continue':
      return false;
  }
}

export interface Decision {
  /** The decision event's id: the audit actor is `decision:<id>`. */
  id: string;
  project: string;
  data: ExperimentDecisionData;
}

/**
 * Acts on an experiment decision of analytics. A decision that stops its experiment goes through
 * the manual stop's use case (one status event, one audit event, here with the actor
 * `decision:<event id>`), and only while the experiment still runs the phase the decision is about,
 * checked on the state the write replaces. So a decision about an earlier phase changes nothing,
 * and neither does a replayed one (the experiment is stopped already).
 */
@Injectable()
export class ActOnDecisionUseCase {
  private readonly decisions: Counter<'verdict' | 'outcome'>;

  constructor(
    private readonly changeStatus: ChangeStatusUseCase,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.decisions = new Counter({
      name: 'llmops_experiment_decisions_total',
      help: 'Experiment decisions consumed, by verdict and by what they did (stopped, no-action, other-phase, not-running, unknown-experiment)',
      labelNames: ['verdict', 'outcome'],
      registers: [registry],
    });
  }

  async execute(decision: Decision, ctx: RequestContext, now = new Date()): Promise<DecisionOutcome> {
    const { id, project, data } = decision;
    let outcome: DecisionOutcome = 'no-action';
    if (stopsExperiment(data)) {
      try {
        await this.changeStatus.execute(
          { principal: { decision: id, project }, ctx },
          data.experimentKey,
          'stop',
          now,
          (current) => {
            outcome =
              current.phase !== data.phase
                ? 'other-phase'
                : current.status !== 'running'
                  ? 'not-running'
                  : 'stopped';
            return outcome === 'stopped';
          },
        );
      } catch (err) {
        if (!(err instanceof ExperimentNotFoundError)) throw err;
        outcome = 'unknown-experiment';
      }
    }
    this.decisions.inc({ verdict: data.verdict, outcome });
    this.logger.info(
      {
        correlationId: ctx.correlationId,
        project,
        experiment: data.experimentKey,
        phase: data.phase,
        verdict: data.verdict,
        decision: id,
        outcome,
      },
      'experiment decision consumed',
    );
    return outcome;
  }
}
