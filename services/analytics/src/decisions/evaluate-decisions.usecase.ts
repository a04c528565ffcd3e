/**
 * Evaluates the decision policy of every running experiment that has one, on the aggregates of its
 * current phase (window `all`), and publishes `io.llmops.experiment.decision.v1` when the verdict
 * changes. Order per experiment: evaluate, publish (awaited: the broker has the event), then store
 * the new state and verdict. A crash in between re-evaluates to the same verdict change, whose
 * event id (`experimentDecisionEventId`) is the same, so consumers that already applied it skip it.
 *
 * Replicas evaluate concurrently: a save is a compare-and-set on the revision the evaluation read,
 * and an evaluation whose save is refused is dropped (the next round starts from the newer state).
 *
 * A paused experiment is not evaluated, and its phase's published verdict is withdrawn (the
 * assignment service ignores decisions for an experiment that is not running), so on resume the
 * current verdict is published again, with the same event id when it is the same change.
 */
import { Inject, Injectable } from '@nestjs/common';
import {
  CLOUDEVENTS_CONTENT_TYPE,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  experimentDecisionEventId,
  experimentTopicKey,
  HEADER_CONTENT_TYPE,
  serializeEvent,
  TOPICS,
  topicName,
  type DecisionVerdict,
} from '@llmops/contracts';
import { BatchingProducer, LOGGER, SERVICE_CONFIG } from '@llmops/platform';
import { evaluateDecision } from '@llmops/stats';
import type { Logger } from 'pino';
import type { AnalyticsConfig } from '../config/analytics.config';
import { AnalyticsMetrics } from '../metrics/analytics-metrics';
import { AggregationRepository } from '../persistence/aggregation.repository';
import type { ExperimentDoc } from '../persistence/analytics.schemas';
import { DecisionsRepository } from '../persistence/decisions.repository';
import { ExperimentsRepository } from '../persistence/experiments.repository';
import { mergeArms } from '../results/compute-results';
import { resolveWindow } from '../results/get-results.usecase';
import { decisionArms, decisionEventData } from './decision-input';

/** An experiment the evaluator can decide: running, with a policy and every arm's prompt version. */
export function isDecidable(
  e: ExperimentDoc,
): e is ExperimentDoc & { decision: NonNullable<ExperimentDoc['decision']> } {
  return e.status === 'running' && !!e.decision && e.arms.every((a) => a.prompt !== undefined);
}

@Injectable()
export class EvaluateDecisionsUseCase {
  private readonly topic: string;

  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly aggregation: AggregationRepository,
    private readonly decisions: DecisionsRepository,
    private readonly producer: BatchingProducer,
    private readonly metrics: AnalyticsMetrics,
    @Inject(SERVICE_CONFIG) config: AnalyticsConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.topic = topicName(TOPICS.experimentDecisions, config.KAFKA_TOPIC_PREFIX);
  }

  /**
   * One round: evaluates every decidable experiment and withdraws the published verdicts of paused
   * ones; one experiment's failure does not stop the others.
   */
  async evaluateAll(now = new Date()): Promise<void> {
    const started = process.hrtime.bigint();
    const verdicts = new Map<string, DecisionVerdict>();
    for (const experiment of await this.experiments.findAll('background')) {
      try {
        if (isDecidable(experiment)) verdicts.set(experiment._id, await this.evaluate(experiment, now));
        else if (experiment.status === 'paused' && experiment.decision) await this.withdraw(experiment);
      } catch (err) {
        this.logger.warn(
          { err, experiment: experiment._id },
          'decision evaluation failed; retried next round',
        );
      }
    }
    this.metrics.guardrailBreaches.set([...verdicts.values()].filter((v) => v === 'guardrail-breach').length);
    this.metrics.verdict.reset();
    for (const [experiment, verdict] of verdicts) this.metrics.verdict.set({ experiment, verdict }, 1);
    this.metrics.decisionSeconds.set(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Evaluates one experiment's current phase; returns its verdict. */
  async evaluate(
    experiment: ExperimentDoc & { decision: NonNullable<ExperimentDoc['decision']> },
    now = new Date(),
  ): Promise<DecisionVerdict> {
    const { project, key, phase, decision: policy } = experiment;
    const { from } = resolveWindow({ window: 'all' }, experiment, now);
    const fromMinute = Math.floor(from.getTime() / 60_000);
    const buckets = await this.aggregation.bucketsInWindow(
      project,
      key,
      fromMinute,
      Number.MAX_SAFE_INTEGER,
      'background',
    );
    const merged = mergeArms(buckets, new Set(experiment.arms.map((a) => a.name)));
    const previous = await this.decisions.find(project, key, phase, 'background');
    const result = evaluateDecision(
      policy,
      decisionArms(experiment, policy, merged),
      previous?.state ?? null,
    );
    if (!result.ok) throw new Error(`cannot evaluate the decision policy: ${result.detail}`);
    const evaluation = result.value;
    const evaluatedAt = now.toISOString();
    let published = previous?.published ?? null;
    let publishedEventId = previous?.publishedEventId ?? null;
    const data = decisionEventData(experiment, policy, evaluation, published, evaluatedAt);
    if (evaluation.verdict !== (published ?? 'continue')) {
      const id = experimentDecisionEventId(project, data);
      const event = createEvent(EVENT_TYPES.experimentDecision, data, {
        source: EVENT_SOURCES.analytics,
        id,
        time: evaluatedAt,
        subject: key,
        project,
      });
      await this.producer.send(this.topic, [
        {
          key: experimentTopicKey(key, project),
          value: serializeEvent(event),
          headers: { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE },
        },
      ]);
      this.metrics.decisions.inc({ verdict: evaluation.verdict });
      this.logger.info(
        {
          experiment: experiment._id,
          phase,
          verdict: evaluation.verdict,
          previousVerdict: published,
          eventId: id,
        },
        'decision published',
      );
      published = evaluation.verdict;
      publishedEventId = id;
    }
    const saved = await this.decisions.save(
      {
        project,
        key,
        phase,
        state: evaluation.state,
        verdict: evaluation.verdict,
        published,
        publishedEventId,
        evaluation: data,
        evaluatedAt,
      },
      previous?.revision ?? 0,
    );
    if (!saved) {
      this.logger.info(
        { experiment: experiment._id, phase, verdict: evaluation.verdict },
        'decision saved by another evaluator first; this evaluation is dropped',
      );
    }
    return evaluation.verdict;
  }

  /** Withdraws the published verdict of a paused experiment's phase (see the file comment). */
  private async withdraw(experiment: ExperimentDoc): Promise<void> {
    const { project, key, phase } = experiment;
    const current = await this.decisions.find(project, key, phase, 'background');
    if (!current || current.published === null) return;
    const { _id, decision: _decision, revision, ...fields } = current;
    if (await this.decisions.save({ ...fields, published: null, publishedEventId: null }, revision)) {
      this.logger.info(
        {
          experiment: experiment._id,
          phase,
          withdrawn: current.published,
          eventId: current.publishedEventId,
        },
        'experiment paused: published verdict withdrawn, published again on resume',
      );
    }
  }
}
