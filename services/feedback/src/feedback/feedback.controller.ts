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
import { buildSubmitFeedbackRequestSchema } from './dto/submit-feedback.request';
import { type SubmitFeedbackResponse, submitFeedbackResponseSchema } from './dto/submit-feedback.response';
import { SubmitFeedbackUseCase } from './submit-feedback.usecase';

// The documented schema uses the default 1..5 scale; the served one follows FEEDBACK_RATING_MIN/MAX.
const DOC_SCHEMA = buildSubmitFeedbackRequestSchema({ min: 1, max: 5 });
const UNAVAILABLE =
  'broker_unavailable | store_unavailable: nothing was accepted; retry after Retry-After seconds';

@ApiTags('feedback')
@Controller('v1/feedback')
export class FeedbackController {
  constructor(
    private readonly submitFeedback: SubmitFeedbackUseCase,
    @Inject(SERVICE_CONFIG) private readonly config: FeedbackConfig,
  ) {}

  @Post()
  @HttpCode(202)
  @RouteConfig({ [BODY_LIMIT]: 'single' })
  @ApiOperation({
    summary: 'Submit (or edit) feedback on a generation (202 after the broker acknowledged the event)',
    description:
      'Event io.llmops.feedback.submitted.v1 on llmops.feedback.v1, key requestId, id fb:<feedbackId>:<revision>. ' +
      'Same feedbackId + same content = duplicate (same revision, same event); different content = edit (revision + 1).',
  })
  @ApiBody({ schema: openApiSchema(DOC_SCHEMA) })
  @ApiResponse({ status: 202, schema: openApiSchema(submitFeedbackResponseSchema, 'output') })
  @ApiResponse({ status: 400, description: 'validation_failed | invalid_json' })
  @ApiResponse({
    status: 409,
    description: 'feedback_id_conflict (id used for another requestId) | revision_conflict',
  })
  @ApiResponse({ status: 413, description: 'payload_too_large (FEEDBACK_MAX_BODY_BYTES) | field_too_large' })
  @ApiResponse({ status: 503, description: UNAVAILABLE })
  async submitOne(@Body() body: unknown): Promise<SubmitFeedbackResponse> {
    const [outcome] = await this.submitFeedback.execute([body]);
    if (!outcome.ok) throw toAppError(outcome.rejection);
    return { feedbackId: outcome.feedbackId, revision: outcome.revision, outcome: outcome.outcome };
  }

  @Post('batch')
  @RouteConfig({ [BODY_LIMIT]: 'batch' })
  @ApiBatchEndpoint({
    verb: 'Submit',
    what: 'feedback items',
    item: DOC_SCHEMA,
    unavailable: UNAVAILABLE,
    acceptedNote: 'accepted lists feedbackIds in item order.',
  })
  async submitBatch(
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BatchResponse> {
    const items = parseBatchEnvelope(body, this.config.FEEDBACK_MAX_BATCH_ITEMS);
    const outcomes = await this.submitFeedback.execute(items);
    const { status, body: response } = settleBatch(outcomes, (o) => o.feedbackId);
    void reply.status(status);
    return response;
  }
}
