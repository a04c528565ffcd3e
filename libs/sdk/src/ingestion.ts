/**
 * `generations.log` and `feedback.log`: validated here, given their id here (requestId /
 * feedbackId, UUIDv7, when absent) so that a retried batch is deduplicated by the platform, then
 * buffered (IngestionQueue) and sent in batches to `POST /v1/generations/batch` and
 * `POST /v1/feedback/batch`.
 */
import type { Client } from 'openapi-fetch';
import { v7 as uuidv7 } from 'uuid';
import type { paths as FeedbackPaths } from './generated/feedback';
import type { IngestionQueue, RefusedIndex } from './ingestion-queue';
import { errorOf, type Transport } from './transport';
import { checkFeedback, checkGeneration } from './item-checks';
import { requireObject } from './validate';

type Body<P extends keyof FeedbackPaths> = FeedbackPaths[P] extends {
  post: { requestBody?: { content: { 'application/json': infer B } } };
}
  ? B
  : never;

/** A generation as `POST /v1/generations` takes it. */
export type Generation = Body<'/v1/generations'>;
/**
 * Feedback as `POST /v1/feedback` takes it. The document's "at least one signal" rule is not part
 * of the type (see the SDK type generator); `feedback.log` checks it before queueing.
 */
export type Feedback = Body<'/v1/feedback'>;

/** What `generations.log` takes: `requestId` and `timestamp` are set here when absent. */
export type GenerationInput = Omit<Generation, 'requestId'> & { requestId?: string };
/** What `feedback.log` takes: `feedbackId` and `timestamp` are set here when absent, `source` defaults to `user`. */
export type FeedbackInput = Omit<Feedback, 'feedbackId' | 'source'> & {
  feedbackId?: string;
  source?: Feedback['source'];
};

interface BatchAnswer {
  accepted?: string[];
  rejected?: RefusedIndex[];
}

type BatchPath = '/v1/generations/batch' | '/v1/feedback/batch';

/** Sends one batch; a 400 whose body lists per-item rejections means every item was refused. */
export function batchSender<T>(
  http: Client<FeedbackPaths>,
  transport: Transport,
  path: BatchPath,
): (items: T[]) => Promise<RefusedIndex[]> {
  return async (items) => {
    const outcome = await transport.send<BatchAnswer>(
      `POST ${path}`,
      (signal) =>
        (
          http.POST as unknown as (
            p: string,
            init: object,
          ) => Promise<{ data?: BatchAnswer; error?: unknown; response: Response }>
        )(path, { body: { items }, signal }),
      { accept: (status) => status === 400 },
    );
    const body = (outcome.data ?? outcome.error) as BatchAnswer | undefined;
    if (!outcome.response.ok && !Array.isArray(body?.rejected))
      throw errorOf(`POST ${path}`, outcome.response, outcome.error);
    return body?.rejected ?? [];
  };
}

/** `client.generations` */
export interface GenerationsApi {
  log(input: GenerationInput): Promise<string>;
}

/** `client.feedback` */
export interface FeedbackApi {
  log(input: FeedbackInput): Promise<string>;
}

export class GenerationsClient implements GenerationsApi {
  constructor(private readonly queue: IngestionQueue<Generation>) {}

  /** Validates and buffers a generation; resolves with its requestId once buffered. */
  async log(input: GenerationInput): Promise<string> {
    requireObject('generation', input);
    const item = {
      ...input,
      requestId: input.requestId ?? uuidv7(),
      timestamp: input.timestamp ?? new Date().toISOString(),
    } as Generation;
    checkGeneration(item);
    await this.queue.push(item);
    return item.requestId;
  }
}

export class FeedbackClient implements FeedbackApi {
  constructor(private readonly queue: IngestionQueue<Feedback>) {}

  /** Validates and buffers feedback on a generation; resolves with its feedbackId once buffered. */
  async log(input: FeedbackInput): Promise<string> {
    requireObject('feedback', input);
    const item = {
      ...input,
      feedbackId: input.feedbackId ?? uuidv7(),
      source: input.source ?? 'user',
      timestamp: input.timestamp ?? new Date().toISOString(),
    } as Feedback;
    checkFeedback(item);
    await this.queue.push(item);
    return item.feedbackId as string;
  }
}
