/** POST /v1/feedback and /v1/feedback/batch (direct routes; see ingestion/ingestion-routes.ts). */
import { DirectRoutes, SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { FeedbackConfig } from '../config/feedback.config';
import { addIngestionRoutes } from '../ingestion/ingestion-routes';
import { buildSubmitFeedbackRequestSchema } from './dto/submit-feedback.request';
import { type SubmitFeedbackResponse, submitFeedbackResponseSchema } from './dto/submit-feedback.response';
import { type FeedbackOutcome, SubmitFeedbackUseCase } from './submit-feedback.usecase';

// The documented schema uses the default 1..5 scale; the served one follows FEEDBACK_RATING_MIN/MAX.
const DOC_SCHEMA = buildSubmitFeedbackRequestSchema({ min: 1, max: 5 });
const UNAVAILABLE =
  'broker_unavailable | database_unavailable: nothing was accepted; retry after Retry-After seconds';

@Injectable()
export class FeedbackRoutes {
  constructor(
    routes: DirectRoutes,
    submitFeedback: SubmitFeedbackUseCase,
    @Inject(SERVICE_CONFIG) config: FeedbackConfig,
  ) {
    addIngestionRoutes<FeedbackOutcome>(routes, config, {
      url: '/v1/feedback',
      operationId: 'submitFeedback',
      tag: 'feedback',
      execute: (items, ctx, project) => submitFeedback.execute(items, ctx, project),
      singleAnswer: (o): SubmitFeedbackResponse => ({
        feedbackId: o.feedbackId,
        revision: o.revision,
        outcome: o.outcome,
      }),
      idOf: (o) => o.feedbackId,
      single: {
        summary: 'Submit (or edit) feedback on a generation (202 after the broker acknowledged the event)',
        description:
          'Event io.llmops.feedback.submitted.v1 on llmops.feedback.v1, key requestId, id fb:<feedbackId>:<revision>. ' +
          'Same feedbackId + same content = duplicate (same revision, same event); different content = edit (revision + 1).',
        request: DOC_SCHEMA,
        response: submitFeedbackResponseSchema,
        errors: {
          '400': 'validation_failed | invalid_json',
          '404': "experiment_not_found: `experiment` names no experiment of the key's project",
          '409': 'feedback_id_conflict (id used for another requestId) | revision_conflict',
          '413': 'payload_too_large (FEEDBACK_MAX_BODY_BYTES) | field_too_large | event_too_large',
          '415': 'unsupported_media_type (send application/json)',
          '503': UNAVAILABLE,
        },
      },
      batch: {
        verb: 'Submit',
        what: 'feedback items',
        item: DOC_SCHEMA,
        unavailable: UNAVAILABLE,
        acceptedNote: 'accepted lists feedbackIds in item order.',
      },
    });
  }
}
