/**
 * Per experiment/arm gauges (labels `experiment`, `arm`, and `score` or `metric` where named). Values
 * are computed by the same use case as the results API (window `all`), so /metrics and the API agree
 * by construction. They are rebuilt from MongoDB at start, refreshed periodically and after batches
 * (debounced), bounded by a series budget (`publishAll`), and a stopped experiment's series are
 * removed once it has been stopped longer than the retention.
 */
import { Inject, Injectable } from '@nestjs/common';
import { DECISION_VERDICTS } from '@llmops/contracts';
import { METRICS_REGISTRY } from '@llmops/platform';
import { Counter, Gauge, type Registry } from 'prom-client';
import { scoreOf } from '../domain/bucket';
import type { ExperimentResults } from '../results/dto/results.response';

type ArmLabels = 'experiment' | 'arm';

/** Also the aggregation's batch observer (events, commands, changes). */
@Injectable()
export class AnalyticsMetrics {
  readonly exposures: Gauge<ArmLabels>;
  readonly generations: Gauge<ArmLabels>;
  readonly ratingMean: Gauge<ArmLabels>;
  readonly ratingCiLower: Gauge<ArmLabels>;
  readonly ratingCiUpper: Gauge<ArmLabels>;
  readonly ratingCount: Gauge<ArmLabels>;
  readonly thumbsUpRate: Gauge<ArmLabels>;
  readonly latencyP50: Gauge<ArmLabels>;
  readonly latencyP95: Gauge<ArmLabels>;
  readonly latencyP99: Gauge<ArmLabels>;
  readonly costPerRequest: Gauge<ArmLabels>;
  readonly scoreMean: Gauge<ArmLabels | 'score'>;
  readonly srmPValue: Gauge<'experiment'>;
  readonly sequentialPValue: Gauge<ArmLabels | 'metric'>;
  readonly events: Counter<'type' | 'outcome'>;
  readonly mongoCommands: Counter<string>;
  readonly unattributed: Gauge<string>;
  readonly parkedPurged: Counter<string>;
  readonly parkedHeld: Gauge<string>;
  readonly requestsHeldNow: Gauge<string>;
  readonly requestsForgottenTotal: Counter<string>;
  readonly refreshSeconds: Gauge<string>;
  readonly scoreValuesDropped: Gauge<'experiment'>;
  readonly seriesExported: Gauge<string>;
  readonly seriesOmitted: Gauge<string>;
  readonly experimentsOmitted: Gauge<string>;
  readonly decisions: Counter<'verdict'>;
  readonly guardrailBreaches: Gauge<string>;
  readonly verdict: Gauge<'experiment' | 'verdict'>;
  readonly decisionSeconds: Gauge<string>;
  /** The experiment series now exported, by series key. */
  private exported = new Map<string, Series>();
  private experiments = new Set<string>();
  private readonly changeListeners: Array<() => void> = [];

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers: [registry] });
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers: [registry] });
    const arm = (name: string, help: string) => gauge<ArmLabels>(name, help, ['experiment', 'arm']);
    this.exposures = arm('llmops_experiment_exposed_users', 'Distinct exposed users per arm (window all)');
    this.generations = arm('llmops_experiment_generations', 'Generations per arm (window all)');
    this.ratingMean = arm('llmops_experiment_rating_mean', 'Mean rating per arm');
    this.ratingCiLower = arm(
      'llmops_experiment_rating_ci95_lower',
      'Lower bound of the Student t 95% CI of the mean rating',
    );
    this.ratingCiUpper = arm(
      'llmops_experiment_rating_ci95_upper',
      'Upper bound of the Student t 95% CI of the mean rating',
    );
    this.ratingCount = arm('llmops_experiment_ratings', 'Number of ratings per arm (current revisions)');
    this.thumbsUpRate = arm(
      'llmops_experiment_thumbs_up_ratio',
      'Thumbs-up share of thumbs feedback per arm',
    );
    this.latencyP50 = arm(
      'llmops_experiment_latency_p50_milliseconds',
      'Generation latency median (DDSketch, 1% relative accuracy)',
    );
    this.latencyP95 = arm('llmops_experiment_latency_p95_milliseconds', 'Generation latency p95 (DDSketch)');
    this.latencyP99 = arm('llmops_experiment_latency_p99_milliseconds', 'Generation latency p99 (DDSketch)');
    this.costPerRequest = arm('llmops_experiment_cost_per_request_usd', 'Mean cost per generation in USD');
    // The score name is a bounded, author-chosen label (like arm), never a user or request id.
    this.scoreMean = gauge('llmops_experiment_score_mean', 'Mean of a named feedback score per arm', [
      'experiment',
      'arm',
      'score',
    ]);
    this.srmPValue = gauge(
      'llmops_experiment_srm_p_value',
      'Sample-ratio-mismatch chi-square p-value of distinct exposed users against the weights',
      ['experiment'],
    );
    // `metric` is rating, thumbs or score:<name>: bounded like the score label.
    this.sequentialPValue = gauge(
      'llmops_experiment_sequential_p_value',
      'Always-valid (mSPRT) p-value of each arm against the control, per compared metric',
      ['experiment', 'arm', 'metric'],
    );
    this.scoreValuesDropped = gauge(
      'llmops_experiment_score_values_dropped',
      'Score values (current feedback revisions, window all) not aggregated or not shown because their name is beyond the per-experiment score-name limit',
      ['experiment'],
    );
    this.seriesExported = gauge(
      'llmops_analytics_metrics_series',
      'Experiment series exported (bounded by ANALYTICS_METRICS_MAX_SERIES)',
    );
    this.seriesOmitted = gauge(
      'llmops_analytics_metrics_series_omitted',
      'Experiment series not exported because they did not fit in ANALYTICS_METRICS_MAX_SERIES',
    );
    this.experimentsOmitted = gauge(
      'llmops_analytics_metrics_experiments_omitted',
      'Experiments not exported because more than ANALYTICS_METRICS_MAX_EXPERIMENTS are running or recently stopped',
    );
    this.events = counter(
      'llmops_analytics_events_total',
      'Consumed events by type and outcome (applied, duplicate, stale, parked, resolved, ignored, invalid)',
      ['type', 'outcome'],
    );
    this.mongoCommands = counter(
      'llmops_analytics_mongo_writes_total',
      'MongoDB write commands sent by the aggregation (one insert per collection per batch at most, plus the periodic deletes of superseded bucket versions and of parked feedback past its retention)',
    );
    this.unattributed = gauge(
      'llmops_analytics_feedback_unattributed',
      'Feedback naming no arm whose generation has not been seen, or whose request was forgotten past the request retention (parked, listed by GET /v1/feedback/unattributed)',
    );
    this.parkedPurged = counter(
      'llmops_analytics_parked_feedback_purged_total',
      'Parked feedback documents deleted by the retention sweep (received longer ago than ANALYTICS_PARKED_RETENTION_HOURS)',
    );
    this.parkedHeld = gauge(
      'llmops_analytics_parked_feedback_held',
      "Parked feedback held in memory by this replica's partitions, as of its last retention sweep",
    );
    this.requestsHeldNow = gauge(
      'llmops_analytics_requests_held',
      "Requests whose generation this replica's partitions hold for feedback to join, as of the last batch",
    );
    this.requestsForgottenTotal = counter(
      'llmops_analytics_requests_forgotten_total',
      'Requests a partition held in memory and forgot past ANALYTICS_REQUEST_RETENTION_HOURS (a reload leaves older ones out without counting them): their later feedback parks as unattributed',
    );
    this.refreshSeconds = gauge(
      'llmops_analytics_metrics_refresh_seconds',
      'Duration of the last recomputation of the per-arm gauges from MongoDB',
    );
    this.decisions = counter(
      'llmops_analytics_decisions_total',
      'Decision events published (a change of an experiment verdict), by verdict',
      ['verdict'],
    );
    for (const verdict of DECISION_VERDICTS) this.decisions.inc({ verdict }, 0);
    this.guardrailBreaches = gauge(
      'llmops_analytics_experiments_in_guardrail_breach',
      'Running experiments whose decision policy currently says guardrail-breach',
    );
    // One series per running experiment with a decision policy (the scoped key, like the other
    // experiment series): bounded by the experiments, not by the data.
    this.verdict = gauge(
      'llmops_experiment_decision_verdict',
      'Current verdict of the decision policy of each running experiment that has one (value 1)',
      ['experiment', 'verdict'],
    );
    this.decisionSeconds = gauge(
      'llmops_analytics_decision_evaluation_seconds',
      'Duration of the last evaluation of every running experiment with a decision policy',
    );
  }

  /** Called after every batch that changed aggregates (the metrics refresher, the decision evaluator). */
  addChangeListener(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  event(type: string, outcome: string, count = 1): void {
    this.events.inc({ type, outcome }, count);
  }

  commands(n: number): void {
    if (n > 0) this.mongoCommands.inc(n);
  }

  changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  requestsForgotten(n: number): void {
    this.requestsForgottenTotal.inc(n);
  }

  requestsHeld(n: number): void {
    this.requestsHeldNow.set(n);
  }

  /**
   * Publishes the results (window `all`) of the experiments to export, most important first, within
   * a budget of `maxSeries` experiment series; every series not published here is removed. Series
   * are admitted in groups, never half an experiment's arms:
   * 1. per experiment: the per-arm gauges, the SRM p-value and the dropped-score-values gauge;
   * 2. per experiment: the sequential p-values of rating and thumbs;
   * 3. per (experiment, score name), round robin over the experiments in score-name order: the score
   *    means and the score's sequential p-values of every arm.
   * A group that does not fit is omitted (later, smaller groups may still fit) and counted in
   * `llmops_analytics_metrics_series_omitted`.
   */
  publishAll(all: readonly ExperimentResults[], maxSeries: number): { exported: number; omitted: number } {
    const groups: Series[][] = [];
    for (const r of all) groups.push(this.armSeries(r));
    for (const r of all) groups.push(this.sequentialSeries(r, (metric) => !metric.startsWith('score:')));
    const scoreGroups = all.map((r) => this.scoreSeries(r));
    const longest = Math.max(0, ...scoreGroups.map((g) => g.length));
    for (let i = 0; i < longest; i++) for (const g of scoreGroups) if (i < g.length) groups.push(g[i]);

    const next = new Map<string, Series>();
    let omitted = 0;
    for (const group of groups) {
      if (next.size + group.length > maxSeries) {
        omitted += group.length;
        continue;
      }
      for (const series of group) next.set(series.key, series);
    }
    for (const [key, old] of this.exported) if (!next.has(key)) old.gauge.remove(old.labels);
    for (const series of next.values()) series.gauge.set(series.labels, series.value);
    this.exported = next;
    this.experiments = new Set(all.map((r) => r.experiment));
    this.seriesExported.set(next.size);
    this.seriesOmitted.set(omitted);
    return { exported: next.size, omitted };
  }

  private armSeries(results: ExperimentResults): Series[] {
    const experiment = results.experiment;
    const out: Series[] = [];
    const add = (gauge: Gauge<string>, labels: Record<string, string>, v: number | null) => {
      if (v !== null && Number.isFinite(v)) out.push(series(gauge, labels, v));
    };
    for (const a of results.arms) {
      const labels = { experiment, arm: a.arm };
      add(this.exposures, labels, a.exposures);
      add(this.generations, labels, a.generations);
      add(this.ratingCount, labels, a.rating.n);
      add(this.ratingMean, labels, a.rating.mean);
      add(this.ratingCiLower, labels, a.rating.ci95?.[0] ?? null);
      add(this.ratingCiUpper, labels, a.rating.ci95?.[1] ?? null);
      add(this.thumbsUpRate, labels, a.thumbs.rate);
      add(this.latencyP50, labels, a.latencyMs.p50);
      add(this.latencyP95, labels, a.latencyMs.p95);
      add(this.latencyP99, labels, a.latencyMs.p99);
      add(this.costPerRequest, labels, a.costPerRequestUsd);
    }
    add(this.srmPValue, { experiment }, results.srm.pValue);
    add(this.scoreValuesDropped, { experiment }, results.scoreNames.droppedValues);
    return out;
  }

  private sequentialSeries(results: ExperimentResults, metrics: (metric: string) => boolean): Series[] {
    const out: Series[] = [];
    for (const c of results.comparisons) {
      if (c.sequential.pValue === null || !metrics(c.metric)) continue;
      const labels = { experiment: results.experiment, arm: c.arm, metric: c.metric };
      out.push(series(this.sequentialPValue, labels, c.sequential.pValue));
    }
    return out;
  }

  /** One group per score name, in name order. */
  private scoreSeries(results: ExperimentResults): Series[][] {
    const names = new Set<string>();
    for (const a of results.arms) for (const name of Object.keys(a.scores)) names.add(name);
    for (const c of results.comparisons) if (c.metric.startsWith('score:')) names.add(c.metric.slice(6));
    return [...names].sort().map((score) => {
      const out: Series[] = [];
      for (const a of results.arms) {
        const m = scoreOf(a.scores, score)?.mean;
        if (m !== undefined && m !== null && Number.isFinite(m))
          out.push(series(this.scoreMean, { experiment: results.experiment, arm: a.arm, score }, m));
      }
      out.push(...this.sequentialSeries(results, (metric) => metric === `score:${score}`));
      return out;
    });
  }

  exportedExperiments(): string[] {
    return [...this.experiments];
  }
}

interface Series {
  key: string;
  gauge: Gauge<string>;
  labels: Record<string, string>;
  value: number;
}

const gaugeIds = new WeakMap<Gauge<string>, number>();
let nextGaugeId = 0;

function series(gauge: Gauge<string>, labels: Record<string, string>, value: number): Series {
  let id = gaugeIds.get(gauge);
  if (id === undefined) {
    id = nextGaugeId++;
    gaugeIds.set(gauge, id);
  }
  // JSON of the label values: unambiguous whatever characters they hold.
  const key = `${id}${JSON.stringify(Object.values(labels))}`;
  return { key, gauge, labels, value };
}
