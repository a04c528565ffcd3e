import { SERVICE_CONFIG } from '@llmops/platform';
import { Body, Controller, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { FeedbackConfig } from '../config/feedback.config';
import { parseBatchEnvelope } from '../ingestion/batch-envelope';
import { type BatchResponse, settleBatch } from '../ingestion/batch-result';
import { toAppError } from '../ingestion/item-rejection';
import { ApiBatchEndpoint, openApiSchema } from '../ingestion/openapi';
import { BODY_LIMIT } from '../ingestion/route-body-limits';
import { logGenerationRequestSchema } from './dto/log-generation.request';
import { type LogGenerationResponse, logGenerationResponseSchema } from './dto/log-generation.response';
import { LogGenerationsUseCase } from './log-generations.usecase';

const ERRORS_SINGLE =
  '400 validation_failed | invalid_json; 413 payload_too_large (FEEDBACK_MAX_BODY_BYTES) | field_too_large';
const UNAVAILABLE = 'broker_unavailable: nothing was accepted; retry after Retry-After seconds';

@ApiTags('generations')
@Controller('v1/generations')
export class GenerationsController {
  constructor(
    private readonly logGenerations: LogGenerationsUseCase,
    @Inject(SERVICE_CONFIG) private readonly config: FeedbackConfig,
  ) {}

  @Post()
  @HttpCode(202)
  @RouteConfig({ [BODY_LIMIT]: 'single' })
  @ApiOperation({
    summary: 'Log one LLM generation (202 after the broker acknowledged the event)',
    description:
      'Event io.llmops.generation.logged.v1 on llmops.generations.v1, key requestId, id gen:<requestId>.',
  })
  @ApiBody({ schema: openApiSchema(logGenerationRequestSchema) })
  @ApiResponse({ status: 202, schema: openApiSchema(logGenerationResponseSchema, 'output') })
  @ApiResponse({ status: 400, description: ERRORS_SINGLE })
  @ApiResponse({ status: 413, description: ERRORS_SINGLE })
  @ApiResponse({ status: 503, description: UNAVAILABLE })
  async logOne(@Body() body: unknown): Promise<LogGenerationResponse> {
    const [outcome] = await this.logGenerations.execute([body]);
    if (!outcome.ok) throw toAppError(outcome.rejection);
    return { requestId: outcome.id };
  }

  @Post('batch')
  @RouteConfig({ [BODY_LIMIT]: 'batch' })
  @ApiBatchEndpoint({
    verb: 'Log',
    what: 'generations',
    item: logGenerationRequestSchema,
    unavailable: UNAVAILABLE,
  })
  async logBatch(
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BatchResponse> {
    const items = parseBatchEnvelope(body, this.config.FEEDBACK_MAX_BATCH_ITEMS);
    const outcomes = await this.logGenerations.execute(items);
    const { status, body: response } = settleBatch(outcomes, (o) => o.id);
    void reply.status(status);
    return response;
  }
}
