import type { Bucket } from '../aggregation/bucket';
import {
  type AggregationRepository,
  fromStored,
  latestVersions,
  type StoredBucket,
} from '../aggregation/persistence/aggregation.repository';
import type { ExperimentDoc, ExperimentsRepository } from '../aggregation/persistence/experiments.repository';
import { computeResults, nextTurn, type ResultsOptions } from './compute-results';
import type { ResultsQuery } from './dto/results.request';
import type { ExperimentResults } from './dto/results.response';
import { ExperimentNotFoundError } from './results.errors';

/** Buckets read or decoded between two turns of the event loop. */
const SLICE = 250;

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

export class GetResultsUseCase {
  constructor(
    private readonly aggregation: AggregationRepository,
    private readonly experiments: ExperimentsRepository,
    private readonly options: ResultsOptions,
  ) {}

  async execute(key: string, query: ResultsQuery, now = new Date()): Promise<ExperimentResults> {
    const experiment = await this.experiments.findByKey(key);
    if (!experiment) throw new ExperimentNotFoundError(key);
    return this.forExperiment(experiment, query, now);
  }

  async forExperiment(
    experiment: ExperimentDoc,
    query: ResultsQuery,
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
    // A long window holds thousands of buckets: read them in batches and decode them in slices,
    // letting other requests (and /health/live) run in between instead of blocking the event loop.
    const docs: StoredBucket[] = [];
    const cursor = this.aggregation.buckets
      .find({ exp: experiment._id, minute: { $gte: fromMinute, $lt: toMinute } })
      .batchSize(SLICE);
    for await (const doc of cursor) {
      docs.push(doc);
      if (docs.length % SLICE === 0) await nextTurn();
    }
    const latest = latestVersions(docs);
    const buckets: Bucket[] = [];
    for (const doc of latest) {
      buckets.push(fromStored(doc));
      if (buckets.length % SLICE === 0) await nextTurn();
    }
    return computeResults(experiment, buckets, window, this.options);
  }
}
