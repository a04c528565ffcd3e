import { openApiSchema, parseOrThrow, type RequestContext, RequestCtx } from '@llmops/platform';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AssignUserUseCase } from './assign-user.usecase';
import { assignBatchRequestSchema } from './dto/assign.request';
import { assignBatchResponseJsonSchema, type AssignBatchResponse } from './dto/assign.response';

/** POST /v1/assign/batch. The single POST /v1/assign is a direct route (assign.route.ts). */
@ApiTags('assignment')
@Controller('v1/assign')
export class AssignmentController {
  constructor(private readonly assignUser: AssignUserUseCase) {}

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Assign up to 1,000 (experiment, user) pairs; results in request order' })
  @ApiBody({ schema: openApiSchema(assignBatchRequestSchema) })
  @ApiResponse({ status: 200, schema: assignBatchResponseJsonSchema })
  @ApiResponse({ status: 400, description: 'validation_failed' })
  @ApiResponse({ status: 503, description: 'broker_unavailable (Retry-After)' })
  batch(@Body() body: unknown, @RequestCtx() ctx: RequestContext): Promise<AssignBatchResponse> {
    return this.assignUser.assignBatch(parseOrThrow(assignBatchRequestSchema, body).items, ctx);
  }
}
