import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ApiQueryFrom,
  Authorize,
  CurrentPrincipal,
  openApiSchema,
  parseOrThrow,
  type Principal,
} from '@llmops/platform';
import { resultsQuerySchema } from './dto/results.request';
import { type ExperimentResults, resultsResponseSchema } from './dto/results.response';
import { GetResultsUseCase } from './get-results.usecase';
import {
  ListUncountedArmsUseCase,
  type UncountedArmsPage,
  uncountedQuerySchema,
} from './list-uncounted-arms.usecase';
import {
  ListUnattributedUseCase,
  type UnattributedPage,
  unattributedQuerySchema,
} from './list-unattributed.usecase';

@ApiTags('results')
@Controller('v1')
export class ResultsController {
  constructor(
    private readonly getResults: GetResultsUseCase,
    private readonly listUnattributed: ListUnattributedUseCase,
    private readonly listUncountedArms: ListUncountedArmsUseCase,
  ) {}

  @Get('experiments/:key/results')
  @Authorize('results:read', 'read')
  @ApiOperation({ summary: 'Per-arm aggregates, comparisons against control, SRM and sample-size status' })
  @ApiParam({ name: 'key', description: 'experiment key' })
  @ApiQueryFrom(resultsQuerySchema)
  @ApiResponse({ status: 200, schema: openApiSchema(resultsResponseSchema, 'output') })
  @ApiResponse({
    status: 404,
    description: "experiment_not_found (also for another project's experiment)",
  })
  @ApiResponse({ status: 400, description: 'validation_failed' })
  results(
    @CurrentPrincipal() principal: Principal,
    @Param('key') key: string,
    @Query() query: unknown,
  ): Promise<ExperimentResults> {
    const parsed = parseOrThrow(resultsQuerySchema, query ?? {}, 'query');
    return this.getResults.execute(principal.project, key, parsed);
  }

  @Get('feedback/unattributed')
  @Authorize('results:read', 'read')
  @ApiOperation({
    summary: 'Feedback naming no arm whose generation has not arrived (parked, not dropped)',
    description:
      'One page in (feedbackId, revision) order, each pair once. A page may hold fewer than `limit` items while `nextCursor` is set: continue until it is null.',
  })
  @ApiQueryFrom(unattributedQuerySchema)
  @ApiResponse({
    status: 200,
    description:
      '{ items: [{ feedbackId, revision, requestId, receivedAt, reason: generation_not_seen | generation_not_in_experiment }], nextCursor: string | null }',
  })
  @ApiResponse({
    status: 400,
    description: 'validation_failed (bad limit, unknown parameter), invalid_cursor',
  })
  unattributed(@CurrentPrincipal() principal: Principal, @Query() query: unknown): Promise<UnattributedPage> {
    const { limit, cursor } = parseOrThrow(unattributedQuerySchema, query ?? {}, 'query');
    return this.listUnattributed.page(principal.project, limit, cursor);
  }

  @Get('arms/uncounted')
  @Authorize('results:read', 'read')
  @ApiOperation({
    summary: 'Experiment/arm pairs with data that results do not count (no such experiment or arm)',
    description:
      'One page in (experiment, arm) order. A page may hold fewer than `limit` items while `nextCursor` is set: continue until it is null.',
  })
  @ApiQueryFrom(uncountedQuerySchema)
  @ApiResponse({
    status: 200,
    description:
      '{ items: [{ experiment, arm, reason: experiment_not_found | arm_not_in_experiment, exposures, generations, ratings, thumbs, comments, corrections }], nextCursor: string | null }',
  })
  @ApiResponse({
    status: 400,
    description: 'validation_failed (bad limit, unknown parameter), invalid_cursor',
  })
  uncounted(@CurrentPrincipal() principal: Principal, @Query() query: unknown): Promise<UncountedArmsPage> {
    const { limit, cursor } = parseOrThrow(uncountedQuerySchema, query ?? {}, 'query');
    return this.listUncountedArms.page(principal.project, limit, cursor);
  }
}
