import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryFrom, openApiSchema, parseOrThrow } from '@llmops/platform';
import { resultsQuerySchema } from './dto/results.request';
import { type ExperimentResults, resultsResponseSchema } from './dto/results.response';
import { GetResultsUseCase } from './get-results.usecase';
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
  ) {}

  @Get('experiments/:key/results')
  @ApiOperation({ summary: 'Per-arm aggregates, comparisons against control, SRM and sample-size status' })
  @ApiParam({ name: 'key', description: 'experiment key' })
  @ApiQueryFrom(resultsQuerySchema)
  @ApiResponse({ status: 200, schema: openApiSchema(resultsResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'experiment_not_found' })
  @ApiResponse({ status: 400, description: 'validation_failed' })
  results(@Param('key') key: string, @Query() query: unknown): Promise<ExperimentResults> {
    return this.getResults.execute(key, parseOrThrow(resultsQuerySchema, query ?? {}, 'query'));
  }

  @Get('feedback/unattributed')
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
  unattributed(@Query() query: unknown): Promise<UnattributedPage> {
    const { limit, cursor } = parseOrThrow(unattributedQuerySchema, query ?? {}, 'query');
    return this.listUnattributed.page(limit, cursor);
  }
}
