import { Inject, Injectable, Optional } from '@nestjs/common';
import { getOrCreateMetric, METRICS_REGISTRY, SERVICE_CONFIG } from '@llmops/platform';
import { Counter, type Registry } from 'prom-client';
import type { AnalyticsConfig } from '../config/analytics.config';
import type { Bucket } from '../domain/bucket';
import { AggregationRepository } from '../persistence/aggregation.repository';
import type { DecisionDoc, ExperimentDoc } from '../persistence/analytics.schemas';
import { DecisionsRepository } from '../persistence/decisions.repository';
import { ExperimentsRepository } from '../persistence/experiments.repository';
import type { ReadPath } from '../persistence/read-path';
import { computeResults } from './compute-results';
import type { ResultsQuery } from './dto/results.request';
import type { DecisionResult, ExperimentResults } from './dto/results.response';
import { ExperimentNotFoundError } from './results.errors';

const WINDOW_MS: Record<'1h' | '24h' | '7d', number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};

/** Resolves a window to [from, to); `all` starts at the current phase (never mixes phases). */
export function resolveWindow(
  query: ResultsQuery,
  experiment: ExperimentDoc,
  now: Date,
): { from: Date; to: Date } {
  const to = query.to ? new Date(query.to) : now;
  if (query.from) return { from: new Date(query.from), to };
  const window = query.window ?? 'all';
  if (window === 'all') return { from: new Date(experiment.phaseStartedAt ?? 0), to };
  return { from: new Date(to.getTime() - WINDOW_MS[window]), to };
}

/** Counts the reads of a whole phase (`window=all` without an end) by what they read. */
export const WHOLE_PHASE_READS = 'llmops_analytics_results_whole_phase_reads_total';

@Injectable()
export class GetResultsUseCase {
  private readonly wholePhaseReads?: Counter<'source' | 'path'>;

  constructor(
    private readonly aggregation: AggregationRepository,
    private readonly experiments: ExperimentsRepository,
    private readonly decisions: DecisionsRepository,
    @Inject(SERVICE_CONFIG)
    private readonly config: Pick<AnalyticsConfig, 'ANALYTICS_MIN_PER_ARM' | 'ANALYTICS_RECOMMENDED_PER_ARM'>,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    if (!registry) return;
    this.wholePhaseReads = getOrCreateMetric(
      registry,
      WHOLE_PHASE_READS,
      () =>
        new Counter<'source' | 'path'>({
          name: WHOLE_PHASE_READS,
          help: 'Results reads of a whole phase (window=all without an end), by source (phase-rollups, or window while some partition has not established the phase roll-ups yet: a read that takes longer) and path (request: the API; background: the metrics refresher, the decisions, the MLflow export)',
          labelNames: ['source', 'path'],
          registers: [registry],
        }),
    );
    for (const source of ['phase-rollups', 'window'])
      for (const path of ['request', 'background']) this.wholePhaseReads.inc({ source, path }, 0);
  }

  /**
   * The results API: reads with the request deadline. Another project's experiment is not found,
   * exactly like a key no project has.
   */
  async execute(
    project: string,
    key: string,
    query: ResultsQuery,
    now = new Date(),
  ): Promise<ExperimentResults> {
    const experiment = await this.experiments.findByKey(project, key, 'request');
    if (!experiment) throw new ExperimentNotFoundError(key);
    return this.forExperiment(experiment, query, 'request', now);
  }

  async forExperiment(
    experiment: ExperimentDoc,
    query: ResultsQuery,
    path: ReadPath,
    now = new Date(),
  ): Promise<ExperimentResults> {
    const window = resolveWindow(query, experiment, now);
    // Minute buckets: a bucket is in the window when its minute overlaps [from, to). The minute
    // that holds `from` is included: for `all` it is the first (partial) minute of the phase, and
    // rounding it away would hide everything a phase received in its first minute.
    const fromMinute = Math.floor(window.from.getTime() / 60_000);
    // `all` without an explicit end has no upper bound (late clocks must not hide data).
    const open = (query.window ?? 'all') === 'all' && !query.from && !query.to;
    const toMinute = open ? Number.MAX_SAFE_INTEGER : Math.ceil(window.to.getTime() / 60_000);
    // The phase's last evaluation does not depend on the buckets: read beside them.
    const [buckets, decision] = await Promise.all([
      this.bucketsOf(experiment, open, fromMinute, toMinute, path),
      experiment.decision
        ? this.decisions.find(experiment.project, experiment.key, experiment.phase, path)
        : null,
    ]);
    return computeResults(
      experiment,
      buckets,
      window,
      {
        minimumPerArm: this.config.ANALYTICS_MIN_PER_ARM,
        recommendedPerArm: this.config.ANALYTICS_RECOMMENDED_PER_ARM,
      },
      decision ? decisionResult(decision) : null,
    );
  }

  /**
   * The whole phase (`open`): its roll-ups where every partition has established them
   * (phase-rollup.ts), one bucket per arm, topic and partition; otherwise the days, hours and
   * minutes of the window.
   */
  private async bucketsOf(
    experiment: ExperimentDoc,
    open: boolean,
    fromMinute: number,
    toMinute: number,
    path: ReadPath,
  ): Promise<Bucket[]> {
    const rollups = open
      ? await this.aggregation.phaseRollups(experiment.project, experiment.key, fromMinute, path)
      : null;
    if (open) this.wholePhaseReads?.inc({ source: rollups ? 'phase-rollups' : 'window', path });
    return (
      rollups ??
      this.aggregation.bucketsInWindow(experiment.project, experiment.key, fromMinute, toMinute, path)
    );
  }
}

/** The stored last evaluation of a phase, as the results show it (whatever the window). */
export function decisionResult(doc: DecisionDoc): DecisionResult {
  const e = doc.evaluation;
  return {
    phase: doc.phase,
    verdict: doc.verdict,
    publishedVerdict: doc.published,
    eventId: doc.publishedEventId,
    evaluatedAt: doc.evaluatedAt,
    alpha: e.alpha,
    winner: e.winner,
    breaches: e.breaches,
    primary: e.primary,
    guardrails: e.guardrails,
  };
}
