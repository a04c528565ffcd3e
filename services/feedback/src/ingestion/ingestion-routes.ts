/**
 * The two direct routes every ingestion feature has (see libs/platform DirectRoutes): `POST <url>`
 * for one item (202 with `singleAnswer`, or the item's rejection as an HTTP error) and
 * `POST <url>/batch` for up to FEEDBACK_MAX_BATCH_ITEMS items (per-item results), each with its own
 * body limit from the configuration. Both need a key with the `ingest` scope and draw from its
 * `ingest` rate limit; the items belong to the key's project.
 */
import {
  contextOf,
  type DirectRoutes,
  principalOf,
  type RequestContext,
  type RouteAuth,
} from '@llmops/platform';
import type { FeedbackConfig } from '../config/feedback.config';
import { parseBatchEnvelope } from './batch-envelope';
import { type ItemOutcome, settleBatch } from './batch-result';
import { toAppError } from './item-rejection';
import { batchOperation, singleOperation } from './openapi';

type Accepted<O extends ItemOutcome> = Extract<O, { ok: true }>;

const INGEST: RouteAuth = { scope: 'ingest', class: 'ingest' };

export interface IngestionRoutesSpec<O extends ItemOutcome> {
  url: string;
  /** OpenAPI operation id of the single route; the batch route gets `${operationId}Batch`. */
  operationId: string;
  tag: string;
  /**
   * Validates and publishes the items of `project` (the caller's); the events carry `ctx` (the
   * request's context).
   */
  execute: (items: readonly unknown[], ctx: RequestContext, project: string) => Promise<O[]>;
  /** The 202 body of the single route. */
  singleAnswer: (accepted: Accepted<O>) => unknown;
  /** The id listed in a batch answer's `accepted`. */
  idOf: (accepted: Accepted<O>) => string;
  single: Omit<Parameters<typeof singleOperation>[0], 'tag' | 'operationId'>;
  batch: Omit<Parameters<typeof batchOperation>[0], 'tag' | 'operationId'>;
}

export function addIngestionRoutes<O extends ItemOutcome>(
  routes: DirectRoutes,
  config: FeedbackConfig,
  spec: IngestionRoutesSpec<O>,
): void {
  routes.add({
    method: 'POST',
    url: spec.url,
    status: 202,
    auth: INGEST,
    bodyLimit: config.FEEDBACK_MAX_BODY_BYTES,
    handle: async (body, request) => {
      const [outcome] = await spec.execute([body], contextOf(request), principalOf(request).project);
      if (!outcome.ok) throw toAppError(outcome.rejection);
      return spec.singleAnswer(outcome as Accepted<O>);
    },
    openApi: singleOperation({ ...spec.single, tag: spec.tag, operationId: spec.operationId }),
  });
  routes.add({
    method: 'POST',
    url: `${spec.url}/batch`,
    status: 202,
    auth: INGEST,
    bodyLimit: config.FEEDBACK_MAX_BATCH_BODY_BYTES,
    handle: async (body, request, reply) => {
      const items = parseBatchEnvelope(body, config.FEEDBACK_MAX_BATCH_ITEMS);
      const outcomes = await spec.execute(items, contextOf(request), principalOf(request).project);
      const { status, body: answer } = settleBatch(outcomes, spec.idOf);
      void reply.code(status);
      return answer;
    },
    openApi: batchOperation({ ...spec.batch, tag: spec.tag, operationId: `${spec.operationId}Batch` }),
  });
}
