/** POST /v1/generations and /v1/generations/batch (direct routes; see ingestion/ingestion-routes.ts). */
import { DirectRoutes, SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { FeedbackConfig } from '../config/feedback.config';
import { addIngestionRoutes } from '../ingestion/ingestion-routes';
import { logGenerationRequestSchema } from './dto/log-generation.request';
import { type LogGenerationResponse, logGenerationResponseSchema } from './dto/log-generation.response';
import { type ItemOutcome, LogGenerationsUseCase } from './log-generations.usecase';

const UNAVAILABLE = 'broker_unavailable: nothing was accepted; retry after Retry-After seconds';

@Injectable()
export class GenerationsRoutes {
  constructor(
    routes: DirectRoutes,
    logGenerations: LogGenerationsUseCase,
    @Inject(SERVICE_CONFIG) config: FeedbackConfig,
  ) {
    addIngestionRoutes<ItemOutcome>(routes, config, {
      url: '/v1/generations',
      operationId: 'logGeneration',
      tag: 'generations',
      execute: (items, ctx, project) => logGenerations.execute(items, ctx, project),
      singleAnswer: (o): LogGenerationResponse => ({ requestId: o.id }),
      idOf: (o) => o.id,
      single: {
        summary: 'Log one LLM generation (202 after the broker acknowledged the event)',
        description:
          'Event io.llmops.generation.logged.v1 on llmops.generations.v1, key requestId, id gen:<requestId>.',
        request: logGenerationRequestSchema,
        response: logGenerationResponseSchema,
        errors: {
          '400': 'validation_failed | invalid_json',
          '404': "experiment_not_found: `experiment` names no experiment of the key's project",
          '413': 'payload_too_large (FEEDBACK_MAX_BODY_BYTES) | field_too_large | event_too_large',
          '415': 'unsupported_media_type (send application/json)',
          '503': UNAVAILABLE,
        },
      },
      batch: {
        verb: 'Log',
        what: 'generations',
        item: logGenerationRequestSchema,
        unavailable: UNAVAILABLE,
      },
    });
  }
}
