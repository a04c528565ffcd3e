import {
  Authorize,
  CurrentPrincipal,
  openApiSchema,
  parseOrThrow,
  type Principal,
  type RequestContext,
  RequestCtx,
} from '@llmops/platform';
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
  @Authorize('assign', 'assign')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Assign up to 1,000 (experiment, user) pairs; results in request order',
    description:
      "Among the experiments of the key's project; an item naming an unknown experiment (or another " +
      "project's) gets its own error, experiment_not_found.",
  })
  @ApiBody({ schema: openApiSchema(assignBatchRequestSchema) })
  @ApiResponse({ status: 200, schema: assignBatchResponseJsonSchema })
  @ApiResponse({ status: 400, description: 'validation_failed' })
  @ApiResponse({ status: 503, description: 'broker_unavailable (Retry-After)' })
  batch(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @RequestCtx() ctx: RequestContext,
  ): Promise<AssignBatchResponse> {
    const { items } = parseOrThrow(assignBatchRequestSchema, body);
    return this.assignUser.assignBatch(principal.project, items, ctx);
  }
}
