/**
 * POST /v1/generations and /v1/generations/batch as direct routes (served by fastify, not through
 * Nest's router; see libs/platform DirectRoutes), each with its own body limit from the configuration.
 */
import { DirectRoutes, SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { FeedbackConfig } from '../config/feedback.config';
import { parseBatchEnvelope } from '../ingestion/batch-envelope';
import { settleBatch } from '../ingestion/batch-result';
import { toAppError } from '../ingestion/item-rejection';
import { batchOperation, singleOperation } from '../ingestion/openapi';
import { logGenerationRequestSchema } from './dto/log-generation.request';
import { type LogGenerationResponse, logGenerationResponseSchema } from './dto/log-generation.response';
import { LogGenerationsUseCase } from './log-generations.usecase';

const UNAVAILABLE = 'broker_unavailable: nothing was accepted; retry after Retry-After seconds';

@Injectable()
export class GenerationsRoutes {
  constructor(
    routes: DirectRoutes,
    logGenerations: LogGenerationsUseCase,
    @Inject(SERVICE_CONFIG) config: FeedbackConfig,
  ) {
    routes.add({
      method: 'POST',
      url: '/v1/generations',
      status: 202,
      bodyLimit: config.FEEDBACK_MAX_BODY_BYTES,
      handle: async (body): Promise<LogGenerationResponse> => {
        const [outcome] = await logGenerations.execute([body]);
        if (!outcome.ok) throw toAppError(outcome.rejection);
        return { requestId: outcome.id };
      },
      openApi: singleOperation({
        tag: 'generations',
        summary: 'Log one LLM generation (202 after the broker acknowledged the event)',
        description:
          'Event io.llmops.generation.logged.v1 on llmops.generations.v1, key requestId, id gen:<requestId>.',
        request: logGenerationRequestSchema,
        response: logGenerationResponseSchema,
        errors: {
          '400': 'validation_failed | invalid_json',
          '413': 'payload_too_large (FEEDBACK_MAX_BODY_BYTES) | field_too_large',
          '503': UNAVAILABLE,
        },
      }),
    });
    routes.add({
      method: 'POST',
      url: '/v1/generations/batch',
      status: 202,
      bodyLimit: config.FEEDBACK_MAX_BATCH_BODY_BYTES,
      handle: async (body, _request, reply) => {
        const items = parseBatchEnvelope(body, config.FEEDBACK_MAX_BATCH_ITEMS);
        const outcomes = await logGenerations.execute(items);
        const { status, body: response } = settleBatch(outcomes, (o) => o.id);
        void reply.code(status);
        return response;
      },
      openApi: batchOperation({
        tag: 'generations',
        verb: 'Log',
        what: 'generations',
        item: logGenerationRequestSchema,
        unavailable: UNAVAILABLE,
      }),
    });
  }
}
