/**
 * `new LlmopsClient(options)`: prompts (cached, rendered locally), experiments (assigned locally),
 * generations and feedback (buffered, batched, retried). Call `shutdown()` before the process
 * exits: it sends what is buffered and stops the snapshot long poll.
 */
import createClient, { type Client } from 'openapi-fetch';
import {
  type ExperimentsApi,
  ExperimentsClient,
  exposureSender,
  type HttpOptions,
  type QueuedExposure,
  SnapshotPoller,
} from './experiments';
import type { paths as AssignmentPaths } from './generated/assignment';
import type { paths as FeedbackPaths } from './generated/feedback';
import type { paths as RegistryPaths } from './generated/registry';
import {
  batchSender,
  type Feedback,
  type FeedbackApi,
  FeedbackClient,
  type Generation,
  type GenerationsApi,
  GenerationsClient,
} from './ingestion';
import { type BatchSender, type FlushResult, IngestionQueue } from './ingestion-queue';
import { type LlmopsClientOptions, type ResolvedOptions, resolveOptions } from './options';
import { type PromptsApi, PromptsClient } from './prompts';
import { Transport } from './transport';

export interface ClientMetrics {
  /** Items the platform accepted. */
  sent: number;
  /** Items dropped by the overflow policy `drop-oldest`. */
  dropped: number;
  /** Items the platform refused (not retried). */
  rejected: number;
  /** Requests sent again after a failure. */
  retried: number;
  /** Items held now (buffered or in flight), per kind. */
  buffered: { generations: number; feedback: number; exposures: number };
}

/**
 * What the client's openapi-fetch clients are created with besides their base URL: its `fetch` and
 * the key's header. Exposure batches are sent with the same.
 */
export function httpOptions(o: Pick<ResolvedOptions, 'apiKey' | 'fetch'>): Omit<HttpOptions, 'baseUrl'> {
  return { headers: o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}, fetch: o.fetch };
}

export class LlmopsClient {
  readonly prompts: PromptsApi;
  readonly experiments: ExperimentsApi;
  readonly generations: GenerationsApi;
  readonly feedback: FeedbackApi;
  readonly options: Readonly<ResolvedOptions>;
  private readonly counters = { sent: 0, dropped: 0, rejected: 0, retried: 0 };
  private readonly queues: {
    generations: IngestionQueue<Generation>;
    feedback: IngestionQueue<Feedback>;
    exposures: IngestionQueue<QueuedExposure>;
  };
  private readonly poller: { stop(): Promise<void> };

  /** Throws LlmopsValidationError for a bad option. */
  constructor(options: LlmopsClientOptions = {}) {
    const o = (this.options = resolveOptions(options));
    const base = httpOptions(o);
    const http = <P extends object>(baseUrl: string): Client<P> => createClient<P>({ ...base, baseUrl });
    const transport = new Transport(o.retry, o.timeoutMs, this.counters);
    const feedbackHttp = http<FeedbackPaths>(o.urls.feedback);
    const assignmentHttp = http<AssignmentPaths>(o.urls.assignment);
    const queue = <T>(
      kind: string,
      send: BatchSender<T>,
      idOf: (item: T) => string,
      onDiscard?: (item: T) => void,
    ) => new IngestionQueue<T>(kind, o.buffer, send, idOf, this.counters, o.retry.maxDelayMs, onDiscard);
    // An exposure the platform does not take is forgotten, so the user's next assign sends it again.
    let experiments: ExperimentsClient | undefined;
    this.queues = {
      generations: queue<Generation>(
        'generation',
        batchSender(feedbackHttp, transport, '/v1/generations/batch'),
        (g) => g.requestId,
      ),
      feedback: queue<Feedback>(
        'feedback',
        batchSender(feedbackHttp, transport, '/v1/feedback/batch'),
        (f: Feedback) => f.feedbackId ?? f.requestId,
      ),
      exposures: queue<QueuedExposure>(
        'exposure',
        exposureSender({ ...base, baseUrl: o.urls.assignment }, transport),
        (e) => `${e.experiment}:${e.userId}`,
        (e) => experiments?.forget(e),
      ),
    };
    this.prompts = new PromptsClient(
      http<RegistryPaths>(o.urls.registry),
      transport,
      o.prompts.ttlMs,
      o.prompts.fallbacks,
    );
    const poller = new SnapshotPoller(assignmentHttp, transport, o.retry, o.timeoutMs);
    this.poller = poller;
    this.experiments = experiments = new ExperimentsClient(
      poller,
      assignmentHttp,
      transport,
      this.queues.exposures,
    );
    this.generations = new GenerationsClient(this.queues.generations);
    this.feedback = new FeedbackClient(this.queues.feedback);
  }

  metrics(): ClientMetrics {
    return {
      ...this.counters,
      buffered: {
        generations: this.queues.generations.size,
        feedback: this.queues.feedback.size,
        exposures: this.queues.exposures.size,
      },
    };
  }

  /**
   * Sends everything logged before this call. Resolves once each item was accepted, refused
   * (listed in `rejected`) or dropped by `drop-oldest`; rejects with the error of a batch that
   * could not be delivered after every retry (its items stay buffered and are retried later).
   */
  async flush(): Promise<FlushResult> {
    const results = await Promise.all([
      this.queues.generations.flush(),
      this.queues.feedback.flush(),
      this.queues.exposures.flush(),
    ]);
    return { rejected: results.flatMap((r) => r.rejected) };
  }

  /** Refuses new items, flushes, and stops the snapshot long poll; rejects like flush(). */
  async shutdown(): Promise<FlushResult> {
    const [results] = await Promise.all([
      Promise.all([
        this.queues.generations.close(),
        this.queues.feedback.close(),
        this.queues.exposures.close(),
      ]),
      this.poller.stop(),
    ]);
    return { rejected: results.flatMap((r) => r.rejected) };
  }
}
