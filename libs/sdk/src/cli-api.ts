/**
 * The platform calls of the CLI that LlmopsClient does not make (registering and promoting
 * prompts, diffs, experiment and dataset management, results, snapshots, downloads): openapi-fetch
 * clients typed by the generated OpenAPI types, sent with the SDK's Transport (its retries on
 * 429/503 with Retry-After, and its typed errors).
 */
import createClient, { type Client } from 'openapi-fetch';
import { LlmopsError } from './errors';
import type { paths as AnalyticsPaths } from './generated/analytics';
import type { paths as AssignmentPaths } from './generated/assignment';
import type { paths as DatasetsPaths } from './generated/datasets';
import type { paths as RegistryPaths } from './generated/registry';
import type { CreateDatasetBody, CreateExperimentBody, RegisterPromptBody } from './cli-files';
import type { ResolvedOptions } from './options';
import type { ExperimentResults } from './results-table';
import type { FetchOutcome, SendOptions, Transport } from './transport';

type Ok<Op> = Op extends { responses: { 200: { content: { 'application/json': infer B } } } } ? B : never;
type Created<Op> = Op extends { responses: { 201: { content: { 'application/json': infer B } } } }
  ? B
  : never;

/** A registered version: `created` is false when the spec was already registered under the name. */
export type RegisteredVersion = Created<RegistryPaths['/v1/prompts/{name}/versions']['post']>;
export type AliasMove = Ok<RegistryPaths['/v1/prompts/{name}/aliases/{alias}']['put']>;
export type Experiment = Created<AssignmentPaths['/v1/experiments']['post']>;
export type Dataset = Created<DatasetsPaths['/v1/datasets']['post']>;
export type Snapshot = Created<DatasetsPaths['/v1/datasets/{name}/snapshots']['post']>;
export type DownloadFormat = NonNullable<
  NonNullable<
    DatasetsPaths['/v1/datasets/{name}/snapshots/{ref}/download']['get']['parameters']['query']
  >['format']
>;
export type ResultsWindow = NonNullable<
  NonNullable<AnalyticsPaths['/v1/experiments/{key}/results']['get']['parameters']['query']>['window']
>;

interface VersionRef {
  hash: string;
  shortHash: string;
  version: number;
}

/**
 * The registry's diff (its document does not describe this body): changed top-level fields, each
 * changed leaf, and unified line diffs of the texts.
 */
export interface PromptDiff {
  name: string;
  from: VersionRef;
  to: VersionRef;
  identical: boolean;
  changedFields: string[];
  changes: Array<{ path: string; kind: 'added' | 'removed' | 'changed'; from?: unknown; to?: unknown }>;
  text: Partial<Record<'template' | 'system' | 'messages', { unified: string }>>;
}

/**
 * Creating an experiment or a dataset and changing an experiment's state are not idempotent: a
 * retry of a create that was processed would answer 409 (the CLI would report a failure for a done
 * change). They are retried only when certainly not processed (see SendOptions.idempotent).
 */
const NOT_IDEMPOTENT: SendOptions = { idempotent: false };

export class PlatformApi {
  private readonly registry: Client<RegistryPaths>;
  private readonly assignment: Client<AssignmentPaths>;
  private readonly analytics: Client<AnalyticsPaths>;
  private readonly datasets: Client<DatasetsPaths>;

  constructor(
    options: Pick<ResolvedOptions, 'apiKey' | 'urls' | 'fetch'>,
    private readonly transport: Transport,
  ) {
    const headers: Record<string, string> = options.apiKey
      ? { authorization: `Bearer ${options.apiKey}` }
      : {};
    const http = <P extends object>(baseUrl: string): Client<P> =>
      createClient<P>({ baseUrl, headers, fetch: options.fetch });
    this.registry = http(options.urls.registry);
    this.assignment = http(options.urls.assignment);
    this.analytics = http(options.urls.analytics);
    this.datasets = http(options.urls.datasets);
  }

  registerPrompt(name: string, body: RegisterPromptBody): Promise<RegisteredVersion> {
    return this.data(`register prompt ${name}`, (signal) =>
      this.registry.POST('/v1/prompts/{name}/versions', { params: { path: { name } }, body, signal }),
    );
  }

  async diffPrompt(name: string, from: string, to: string): Promise<PromptDiff> {
    const diff = await this.data(`diff prompt ${name} ${from}..${to}`, (signal) =>
      this.registry.GET('/v1/prompts/{name}/diff', {
        params: { path: { name }, query: { from, to } },
        signal,
      }),
    );
    return diff as unknown as PromptDiff;
  }

  movePromptAlias(
    name: string,
    alias: string,
    body: { ref: string; expected?: string | null; note?: string },
  ): Promise<AliasMove> {
    return this.data(`promote ${name}@${body.ref} to ${alias}`, (signal) =>
      this.registry.PUT('/v1/prompts/{name}/aliases/{alias}', {
        params: { path: { name, alias } },
        body,
        signal,
      }),
    );
  }

  createExperiment(body: CreateExperimentBody): Promise<Experiment> {
    return this.data(
      `create experiment ${body.key}`,
      (signal) => this.assignment.POST('/v1/experiments', { body, signal }),
      NOT_IDEMPOTENT,
    );
  }

  changeExperiment(key: string, action: 'start' | 'pause' | 'stop'): Promise<Experiment> {
    const options = (signal: AbortSignal) => ({ params: { path: { key } }, signal });
    return this.data(
      `${action} experiment ${key}`,
      (signal) =>
        action === 'start'
          ? this.assignment.POST('/v1/experiments/{key}/start', options(signal))
          : action === 'pause'
            ? this.assignment.POST('/v1/experiments/{key}/pause', options(signal))
            : this.assignment.POST('/v1/experiments/{key}/stop', options(signal)),
      NOT_IDEMPOTENT,
    );
  }

  results(key: string, window?: ResultsWindow): Promise<ExperimentResults> {
    return this.data(`results of ${key}`, (signal) =>
      this.analytics.GET('/v1/experiments/{key}/results', {
        params: { path: { key }, query: window ? { window } : {} },
        signal,
      }),
    );
  }

  createDataset(body: CreateDatasetBody): Promise<Dataset> {
    return this.data(
      `create dataset ${body.name}`,
      (signal) => this.datasets.POST('/v1/datasets', { body, signal }),
      NOT_IDEMPOTENT,
    );
  }

  async snapshot(name: string): Promise<{ snapshot: Snapshot; created: boolean }> {
    const { data, response } = await this.transport.send(`snapshot dataset ${name}`, (signal) =>
      this.datasets.POST('/v1/datasets/{name}/snapshots', { params: { path: { name } }, signal }),
    );
    if (data === undefined)
      throw new LlmopsError(`snapshot dataset ${name}: empty answer`, 'invalid_response');
    return { snapshot: data, created: response.status === 201 };
  }

  /**
   * One split of a snapshot as a JSONL byte stream. The attempt's timeout covers the wait for the
   * answer only: the body streams for as long as the split takes.
   */
  async download(
    name: string,
    ref: string,
    query: { split?: string; format?: DownloadFormat },
  ): Promise<{ body: ReadableStream<Uint8Array>; snapshotId?: string }> {
    const { response } = await this.transport.send(`download ${name}@${ref}`, async (signal) => {
      const request = new AbortController();
      const abort = () => request.abort(signal.reason);
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      try {
        return await this.datasets.GET('/v1/datasets/{name}/snapshots/{ref}/download', {
          params: { path: { name, ref }, query },
          parseAs: 'stream',
          signal: request.signal,
        });
      } finally {
        signal.removeEventListener('abort', abort);
      }
    });
    if (!response.body) throw new LlmopsError(`download ${name}@${ref}: empty answer`, 'invalid_response');
    return { body: response.body, snapshotId: response.headers.get('x-llmops-snapshot-id') ?? undefined };
  }

  private async data<T>(
    what: string,
    attempt: (signal: AbortSignal) => Promise<FetchOutcome<T>>,
    options?: SendOptions,
  ): Promise<T> {
    const { data } = await this.transport.send(what, attempt, options);
    if (data === undefined) throw new LlmopsError(`${what}: empty answer`, 'invalid_response');
    return data;
  }
}
