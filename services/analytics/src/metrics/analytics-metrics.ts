/**
 * Per experiment/arm gauges (labels `experiment`, `arm` only). Values are computed by the same use
 * case as the results API (window `all`), so /metrics and the API agree by construction. They are
 * rebuilt from MongoDB at start, refreshed periodically and after batches (debounced), and a
 * stopped experiment's series are removed once it has been stopped longer than the retention.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BatchObserver } from '../aggregation/apply-batch.usecase';
import type { ExperimentResults } from '../results/dto/results.response';

type ArmLabels = 'experiment' | 'arm';

export class AnalyticsMetrics implements BatchObserver {
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
  readonly refreshSeconds: Gauge<string>;
  private readonly exported = new Map<string, Set<string>>();
  private onChange?: () => void;

  constructor(registry: Registry) {
    const gauge = (name: string, help: string) =>
      new Gauge<ArmLabels>({ name, help, labelNames: ['experiment', 'arm'], registers: [registry] });
    this.exposures = gauge('llmops_experiment_exposed_users', 'Distinct exposed users per arm (window all)');
    this.generations = gauge('llmops_experiment_generations', 'Generations per arm (window all)');
    this.ratingMean = gauge('llmops_experiment_rating_mean', 'Mean rating per arm');
    this.ratingCiLower = gauge(
      'llmops_experiment_rating_ci95_lower',
      'Lower bound of the Student t 95% CI of the mean rating',
    );
    this.ratingCiUpper = gauge(
      'llmops_experiment_rating_ci95_upper',
      'Upper bound of the Student t 95% CI of the mean rating',
    );
    this.ratingCount = gauge('llmops_experiment_ratings', 'Number of ratings per arm (current revisions)');
    this.thumbsUpRate = gauge(
      'llmops_experiment_thumbs_up_ratio',
      'Thumbs-up share of thumbs feedback per arm',
    );
    this.latencyP50 = gauge(
      'llmops_experiment_latency_p50_milliseconds',
      'Generation latency median (DDSketch, 1% relative accuracy)',
    );
    this.latencyP95 = gauge(
      'llmops_experiment_latency_p95_milliseconds',
      'Generation latency p95 (DDSketch)',
    );
    this.latencyP99 = gauge(
      'llmops_experiment_latency_p99_milliseconds',
      'Generation latency p99 (DDSketch)',
    );
    this.costPerRequest = gauge('llmops_experiment_cost_per_request_usd', 'Mean cost per generation in USD');
    // The score name is a bounded, author-chosen label (like arm), never a user or request id.
    this.scoreMean = new Gauge({
      name: 'llmops_experiment_score_mean',
      help: 'Mean of a named feedback score per arm',
      labelNames: ['experiment', 'arm', 'score'],
      registers: [registry],
    });
    this.srmPValue = new Gauge({
      name: 'llmops_experiment_srm_p_value',
      help: 'Sample-ratio-mismatch chi-square p-value of distinct exposed users against the weights',
      labelNames: ['experiment'],
      registers: [registry],
    });
    // `metric` is rating, thumbs or score:<name>: bounded like the score label.
    this.sequentialPValue = new Gauge({
      name: 'llmops_experiment_sequential_p_value',
      help: 'Always-valid (mSPRT) p-value of each arm against the control, per compared metric',
      labelNames: ['experiment', 'arm', 'metric'],
      registers: [registry],
    });
    this.events = new Counter({
      name: 'llmops_analytics_events_total',
      help: 'Consumed events by type and outcome (applied, duplicate, stale, parked, resolved, ignored, invalid)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    });
    this.mongoCommands = new Counter({
      name: 'llmops_analytics_mongo_writes_total',
      help: 'MongoDB write commands sent by the aggregation (one insert per collection per batch at most, plus the periodic delete of superseded bucket versions)',
      registers: [registry],
    });
    this.unattributed = new Gauge({
      name: 'llmops_analytics_feedback_unattributed',
      help: 'Feedback naming no arm whose generation has not been seen (parked, listed by GET /v1/feedback/unattributed)',
      registers: [registry],
    });
    this.refreshSeconds = new Gauge({
      name: 'llmops_analytics_metrics_refresh_seconds',
      help: 'Duration of the last recomputation of the per-arm gauges from MongoDB',
      registers: [registry],
    });
  }

  setChangeListener(listener: () => void): void {
    this.onChange = listener;
  }

  event(type: string, outcome: string, count = 1): void {
    this.events.inc({ type, outcome }, count);
  }

  commands(n: number): void {
    if (n > 0) this.mongoCommands.inc(n);
  }

  changed(): void {
    this.onChange?.();
  }

  /** Publishes one experiment's results (window all). */
  publish(results: ExperimentResults): void {
    const experiment = results.experiment;
    const seen = new Set<string>();
    const set = (g: Gauge<ArmLabels>, arm: string, v: number | null) => {
      const labels = { experiment, arm };
      if (v === null || !Number.isFinite(v)) g.remove(labels);
      else g.set(labels, v);
    };
    for (const a of results.arms) {
      seen.add(a.arm);
      set(this.exposures, a.arm, a.exposures);
      set(this.generations, a.arm, a.generations);
      set(this.ratingCount, a.arm, a.rating.n);
      set(this.ratingMean, a.arm, a.rating.mean);
      set(this.ratingCiLower, a.arm, a.rating.ci95?.[0] ?? null);
      set(this.ratingCiUpper, a.arm, a.rating.ci95?.[1] ?? null);
      set(this.thumbsUpRate, a.arm, a.thumbs.rate);
      set(this.latencyP50, a.arm, a.latencyMs.p50);
      set(this.latencyP95, a.arm, a.latencyMs.p95);
      set(this.latencyP99, a.arm, a.latencyMs.p99);
      set(this.costPerRequest, a.arm, a.costPerRequestUsd);
      for (const [score, m] of Object.entries(a.scores)) {
        seen.add(`${a.arm}\u0000${score}`);
        if (m.mean !== null) this.scoreMean.set({ experiment, arm: a.arm, score }, m.mean);
        else this.scoreMean.remove({ experiment, arm: a.arm, score });
      }
    }
    for (const c of results.comparisons) {
      seen.add(`${c.arm}\u0000\u0000${c.metric}`);
      const labels = { experiment, arm: c.arm, metric: c.metric };
      if (c.sequential.pValue === null) this.sequentialPValue.remove(labels);
      else this.sequentialPValue.set(labels, c.sequential.pValue);
    }
    if (results.srm.pValue === null) this.srmPValue.remove({ experiment });
    else this.srmPValue.set({ experiment }, results.srm.pValue);
    this.exported.set(experiment, seen);
  }

  /** Drops every series of an experiment (stopped past retention, or no longer known). */
  remove(experiment: string): void {
    const series = this.exported.get(experiment);
    for (const key of series ?? []) {
      const [arm, score, metric] = key.split('\u0000');
      if (metric !== undefined) {
        this.sequentialPValue.remove({ experiment, arm, metric });
        continue;
      }
      if (score !== undefined) {
        this.scoreMean.remove({ experiment, arm, score });
        continue;
      }
      for (const g of this.armGauges()) g.remove({ experiment, arm });
    }
    this.srmPValue.remove({ experiment });
    this.exported.delete(experiment);
  }

  private armGauges(): Array<Gauge<ArmLabels>> {
    return [
      this.exposures,
      this.generations,
      this.ratingMean,
      this.ratingCiLower,
      this.ratingCiUpper,
      this.ratingCount,
      this.thumbsUpRate,
      this.latencyP50,
      this.latencyP95,
      this.latencyP99,
      this.costPerRequest,
    ];
  }

  exportedExperiments(): string[] {
    return [...this.exported.keys()];
  }
}
