import { parseOrThrow } from '@llmops/platform';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AssignUserUseCase } from './assign-user.usecase';
import { assignBatchRequestSchema, assignRequestSchema } from './dto/assign.request';
import {
  assignBatchResponseJsonSchema,
  assignResponseJsonSchema,
  type AssignBatchResponse,
  type AssignResponse,
} from './dto/assign.response';

@ApiTags('assignment')
@Controller('v1/assign')
export class AssignmentController {
  constructor(private readonly assignUser: AssignUserUseCase) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Assign a user to an arm',
    description:
      'Deterministic. Users outside the experiment get the control prompt with inExperiment false. ' +
      'Answers after the exposure event (inExperiment true) is acknowledged by Kafka.',
  })
  @ApiBody({
    schema: z.toJSONSchema(assignRequestSchema, { unrepresentable: 'any', io: 'input' }) as Record<
      string,
      unknown
    >,
  })
  @ApiResponse({ status: 200, schema: assignResponseJsonSchema })
  @ApiResponse({ status: 400, description: 'validation_failed' })
  @ApiResponse({ status: 404, description: 'experiment_not_found' })
  @ApiResponse({
    status: 503,
    description: 'broker_unavailable (Retry-After): the exposure could not be recorded',
  })
  assign(@Body() body: unknown): Promise<AssignResponse> {
    return this.assignUser.assign(parseOrThrow(assignRequestSchema, body));
  }

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Assign up to 1,000 (experiment, user) pairs; results in request order' })
  @ApiBody({
    schema: z.toJSONSchema(assignBatchRequestSchema, { unrepresentable: 'any', io: 'input' }) as Record<
      string,
      unknown
    >,
  })
  @ApiResponse({ status: 200, schema: assignBatchResponseJsonSchema })
  @ApiResponse({ status: 400, description: 'validation_failed' })
  @ApiResponse({ status: 503, description: 'broker_unavailable (Retry-After)' })
  batch(@Body() body: unknown): Promise<AssignBatchResponse> {
    return this.assignUser.assignBatch(parseOrThrow(assignBatchRequestSchema, body).items);
  }
}
