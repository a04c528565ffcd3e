/**
 * POST /v1/feedback and /v1/feedback/batch as direct routes (served by fastify, not through Nest's
 * router; see libs/platform DirectRoutes), each with its own body limit from the configuration.
 */
import { DirectRoutes, SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { FeedbackConfig } from '../config/feedback.config';
import { parseBatchEnvelope } from '../ingestion/batch-envelope';
import { settleBatch } from '../ingestion/batch-result';
import { toAppError } from '../ingestion/item-rejection';
import { batchOperation, singleOperation } from '../ingestion/openapi';
import { buildSubmitFeedbackRequestSchema } from './dto/submit-feedback.request';
import { type SubmitFeedbackResponse, submitFeedbackResponseSchema } from './dto/submit-feedback.response';
import { SubmitFeedbackUseCase } from './submit-feedback.usecase';

// The documented schema uses the default 1..5 scale; the served one follows FEEDBACK_RATING_MIN/MAX.
const DOC_SCHEMA = buildSubmitFeedbackRequestSchema({ min: 1, max: 5 });
const UNAVAILABLE =
  'broker_unavailable | store_unavailable: nothing was accepted; retry after Retry-After seconds';

@Injectable()
export class FeedbackRoutes {
  constructor(
    routes: DirectRoutes,
    submitFeedback: SubmitFeedbackUseCase,
    @Inject(SERVICE_CONFIG) config: FeedbackConfig,
  ) {
    routes.add({
      method: 'POST',
      url: '/v1/feedback',
      status: 202,
      bodyLimit: config.FEEDBACK_MAX_BODY_BYTES,
      handle: async (body): Promise<SubmitFeedbackResponse> => {
        const [outcome] = await submitFeedback.execute([body]);
        if (!outcome.ok) throw toAppError(outcome.rejection);
        return { feedbackId: outcome.feedbackId, revision: outcome.revision, outcome: outcome.outcome };
      },
      openApi: singleOperation({
        tag: 'feedback',
        summary: 'Submit (or edit) feedback on a generation (202 after the broker acknowledged the event)',
        description:
          'Event io.llmops.feedback.submitted.v1 on llmops.feedback.v1, key requestId, id fb:<feedbackId>:<revision>. ' +
          'Same feedbackId + same content = duplicate (same revision, same event); different content = edit (revision + 1).',
        request: DOC_SCHEMA,
        response: submitFeedbackResponseSchema,
        errors: {
          '400': 'validation_failed | invalid_json',
          '409': 'feedback_id_conflict (id used for another requestId) | revision_conflict',
          '413': 'payload_too_large (FEEDBACK_MAX_BODY_BYTES) | field_too_large',
          '503': UNAVAILABLE,
        },
      }),
    });
    routes.add({
      method: 'POST',
      url: '/v1/feedback/batch',
      status: 202,
      bodyLimit: config.FEEDBACK_MAX_BATCH_BODY_BYTES,
      handle: async (body, _request, reply) => {
        const items = parseBatchEnvelope(body, config.FEEDBACK_MAX_BATCH_ITEMS);
        const outcomes = await submitFeedback.execute(items);
        const { status, body: response } = settleBatch(outcomes, (o) => o.feedbackId);
        void reply.code(status);
        return response;
      },
      openApi: batchOperation({
        tag: 'feedback',
        verb: 'Submit',
        what: 'feedback items',
        item: DOC_SCHEMA,
        unavailable: UNAVAILABLE,
        acceptedNote: 'accepted lists feedbackIds in item order.',
      }),
    });
  }
}
