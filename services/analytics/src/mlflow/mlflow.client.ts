/**
 * The few MLflow tracking REST calls (`/api/2.0/mlflow/...`) the export needs, over Node's fetch.
 * Any transport failure or 5xx becomes `MlflowUnavailableError` (503 to an HTTP caller; the
 * automatic export retries later); a 4xx is a bug in what we sent and surfaces as such.
 */
import { isTimeoutError, withDeadline } from '@llmops/platform';
import { MlflowUnavailableError } from './mlflow.errors';

export interface MlflowRun {
  info: { run_id: string; run_name?: string; status: string };
  data: {
    params?: Array<{ key: string; value: string }>;
    tags?: Array<{ key: string; value: string }>;
  };
}

type KeyValues = Array<{ key: string; value: string }>;

const toList = (o: Record<string, string>): KeyValues =>
  Object.entries(o).map(([key, value]) => ({ key, value }));

/** A string literal of MLflow's search filter syntax. */
const literal = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export class MlflowClient {
  constructor(
    private readonly trackingUri: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.trackingUri.replace(/\/$/, '')}/api/2.0/mlflow/${path}`;
    let res: Response;
    let text: string;
    try {
      // The deadline covers the answer's body too.
      ({ res, text } = await withDeadline(this.timeoutMs, async (signal) => {
        const answer = await fetch(url, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
        });
        return { res: answer, text: await answer.text() };
      }));
    } catch (err) {
      const reason = isTimeoutError(err) ? `did not answer within ${this.timeoutMs} ms` : 'is unreachable';
      throw new MlflowUnavailableError(`MLflow at ${this.trackingUri} ${reason}`, err);
    }
    const json = (text ? JSON.parse(text) : {}) as T & { error_code?: string; message?: string };
    if (res.status >= 500) {
      throw new MlflowUnavailableError(`MLflow answered ${res.status} to ${path}: ${json.message ?? text}`);
    }
    if (!res.ok) throw new MlflowRequestError(res.status, json.error_code ?? 'UNKNOWN', path, json.message);
    return json;
  }

  /** The id of the experiment named `name`, created (with `tags`) when absent; races resolve to one. */
  async ensureExperiment(name: string, tags: Record<string, string>): Promise<string> {
    const find = async (): Promise<string | null> => {
      try {
        const r = await this.call<{ experiment: { experiment_id: string } }>(
          'GET',
          `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
        );
        return r.experiment.experiment_id;
      } catch (err) {
        if (err instanceof MlflowRequestError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
        throw err;
      }
    };
    const found = await find();
    if (found) return found;
    try {
      const r = await this.call<{ experiment_id: string }>('POST', 'experiments/create', {
        name,
        tags: toList(tags),
      });
      return r.experiment_id;
    } catch (err) {
      if (err instanceof MlflowRequestError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await find();
        if (again) return again;
      }
      throw err;
    }
  }

  /** Every run of `experimentId` whose tag `key` equals `value` (active runs only). */
  async runsTagged(experimentId: string, key: string, value: string): Promise<MlflowRun[]> {
    const runs: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.call<{ runs?: MlflowRun[]; next_page_token?: string }>('POST', 'runs/search', {
        experiment_ids: [experimentId],
        filter: `tags.\`${key}\` = ${literal(value)}`,
        run_view_type: 'ACTIVE_ONLY',
        max_results: 1000,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      runs.push(...(r.runs ?? []));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return runs;
  }

  async createRun(experimentId: string, runName: string, tags: Record<string, string>): Promise<string> {
    const r = await this.call<{ run: { info: { run_id: string } } }>('POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: runName,
      start_time: Date.now(),
      tags: toList(tags),
    });
    return r.run.info.run_id;
  }

  /**
   * Logs metrics (as a new point at `timestampMs`), params and tags; MLflow takes at most 1000
   * metrics and 100 params a call.
   */
  async logBatch(
    runId: string,
    batch: { metrics: Record<string, number>; params: Record<string, string>; tags: Record<string, string> },
    timestampMs: number,
  ): Promise<void> {
    const metrics = Object.entries(batch.metrics).map(([key, value]) => ({
      key,
      value,
      timestamp: timestampMs,
      step: 0,
    }));
    const params = toList(batch.params);
    const tags = toList(batch.tags);
    const calls = Math.max(1, Math.ceil(metrics.length / 1000), Math.ceil(params.length / 100));
    for (let i = 0; i < calls; i++) {
      await this.call('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: metrics.slice(i * 1000, (i + 1) * 1000),
        params: params.slice(i * 100, (i + 1) * 100),
        ...(i === 0 ? { tags } : {}),
      });
    }
  }

  /**
   * `logBatch` with only the params of `batch` the run does not hold (`held`: the keys it held when
   * last read; MLflow params are immutable). Two exporters logging the same new params at once make
   * MLflow refuse the later one (400: its key on run and param); that one reads the run's params
   * again and logs once more without those it now holds.
   */
  async logBatchNewParams(
    runId: string,
    batch: { metrics: Record<string, number>; params: Record<string, string>; tags: Record<string, string> },
    held: ReadonlySet<string>,
    timestampMs: number,
  ): Promise<void> {
    const without = (keys: ReadonlySet<string>) =>
      Object.fromEntries(Object.entries(batch.params).filter(([key]) => !keys.has(key)));
    const params = without(held);
    try {
      await this.logBatch(runId, { ...batch, params }, timestampMs);
    } catch (err) {
      if (!(err instanceof MlflowRequestError) || err.status !== 400) throw err;
      const run = await this.getRun(runId);
      const rest = without(new Set((run.data.params ?? []).map((p) => p.key)));
      // Nothing more is held than before: the refusal was not that race.
      if (Object.keys(rest).length === Object.keys(params).length) throw err;
      await this.logBatch(runId, { ...batch, params: rest }, timestampMs);
    }
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const r = await this.call<{ run: MlflowRun }>('GET', `runs/get?run_id=${encodeURIComponent(runId)}`);
    return r.run;
  }

  /** Marks the run deleted (searches for active runs no longer find it). */
  async deleteRun(runId: string): Promise<void> {
    await this.call('POST', 'runs/delete', { run_id: runId });
  }

  async finishRun(runId: string, endTimeMs: number): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: runId, status: 'FINISHED', end_time: endTimeMs });
  }
}

/** MLflow refused a request (4xx): what we sent does not fit its API. */
export class MlflowRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    path: string,
    message?: string,
  ) {
    super(`MLflow refused ${path} (${status} ${errorCode}): ${message ?? ''}`);
    this.name = 'MlflowRequestError';
  }
}
