import {
  ApiQueryFrom,
  Authorize,
  CurrentPrincipal,
  openApiSchema,
  pageQuerySchema,
  parseOrThrow,
  type Principal,
} from '@llmops/platform';
import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ChangeStatusUseCase } from './change-status.usecase';
import { CreateExperimentUseCase } from './create-experiment.usecase';
import { createExperimentRequestSchema } from './dto/create-experiment.request';
import {
  experimentListResponseJsonSchema,
  experimentResponseJsonSchema,
  type ExperimentResponse,
} from './dto/experiment.response';
import { experimentKeySchema } from './dto/experiment-fields';
import { Caller, type ExperimentCaller } from './experiment-caller';
import { startPhaseRequestSchema } from './dto/start-phase.request';
import { updateExperimentRequestSchema } from './dto/update-experiment.request';
import { ExperimentNotFoundError } from './experiments.errors';
import { ReadExperimentsUseCase } from './read-experiments.usecase';
import { StartPhaseUseCase } from './start-phase.usecase';
import { UpdateExperimentUseCase } from './update-experiment.usecase';

/**
 * Experiments of the caller's project: reads need `experiments:read`, changes `experiments:write`
 * (and `prompts:read` when they name prompt refs, which resolve with the caller's key). Another
 * project's experiment answers 404 `experiment_not_found`, like a missing one.
 */

/** `GET /v1/experiments`: `limit` 1-100 (default 20) and `cursor`; anything else is refused. */
const experimentListQuerySchema = pageQuerySchema();

function keyParam(key: string): string {
  // An invalid key can never exist: answer like for any unknown key.
  if (!experimentKeySchema.safeParse(key).success) throw new ExperimentNotFoundError(key);
  return key;
}

@ApiTags('experiments')
@Controller('v1/experiments')
export class ExperimentsController {
  constructor(
    private readonly createExperiment: CreateExperimentUseCase,
    private readonly updateExperiment: UpdateExperimentUseCase,
    private readonly changeStatus: ChangeStatusUseCase,
    private readonly startPhase: StartPhaseUseCase,
    private readonly read: ReadExperimentsUseCase,
  ) {}

  @Post()
  @Authorize('experiments:write', 'write')
  @ApiOperation({
    summary: 'Create an experiment (draft); resolves every arm prompt ref in the registry',
    description:
      "In the key's project. Prompt refs resolve among that project's prompts, with the caller's key: " +
      "it needs 'prompts:read' too (403 forbidden otherwise). PATCH and phases with arms likewise.",
  })
  @ApiBody({ schema: openApiSchema(createExperimentRequestSchema) })
  @ApiResponse({ status: 201, schema: experimentResponseJsonSchema })
  @ApiResponse({ status: 400, description: 'validation_failed' })
  @ApiResponse({ status: 409, description: 'experiment_exists, layer_overlap' })
  @ApiResponse({ status: 422, description: 'unknown_prompt_ref (names the arm), invalid_experiment' })
  @ApiResponse({ status: 503, description: 'registry_unavailable' })
  create(@Body() body: unknown, @Caller() caller: ExperimentCaller): Promise<ExperimentResponse> {
    return this.createExperiment.execute(caller, parseOrThrow(createExperimentRequestSchema, body));
  }

  @Get()
  @Authorize('experiments:read', 'read')
  @ApiOperation({ summary: 'List experiments in key order, one page at a time' })
  @ApiQueryFrom(experimentListQuerySchema)
  @ApiResponse({ status: 200, schema: experimentListResponseJsonSchema })
  @ApiResponse({
    status: 400,
    description: 'validation_failed (bad limit, unknown parameter), invalid_cursor',
  })
  list(
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ items: ExperimentResponse[]; nextCursor: string | null }> {
    const { limit, cursor } = parseOrThrow(experimentListQuerySchema, query ?? {}, 'query');
    return this.read.list(principal.project, limit, cursor);
  }

  @Get(':key')
  @Authorize('experiments:read', 'read')
  @ApiOperation({ summary: 'Read one experiment' })
  @ApiParam({ name: 'key' })
  @ApiResponse({ status: 200, schema: experimentResponseJsonSchema })
  @ApiResponse({ status: 404, description: 'experiment_not_found' })
  get(@Param('key') key: string, @CurrentPrincipal() principal: Principal): Promise<ExperimentResponse> {
    return this.read.get(principal.project, keyParam(key));
  }

  @Patch(':key')
  @Authorize('experiments:write', 'write')
  @ApiOperation({
    summary: 'Change an experiment',
    description:
      'A draft may change anything. Running/paused: description, targeting, forced and raising trafficAllocation only; ' +
      'arms, weights, control, seed, hashVersion and layer need a new phase (409 immutable_while_running).',
  })
  @ApiBody({ schema: openApiSchema(updateExperimentRequestSchema) })
  @ApiResponse({ status: 200, schema: experimentResponseJsonSchema })
  @ApiResponse({
    status: 409,
    description: 'immutable_while_running, allocation_decrease, experiment_stopped, layer_overlap',
  })
  update(
    @Param('key') key: string,
    @Body() body: unknown,
    @Caller() caller: ExperimentCaller,
  ): Promise<ExperimentResponse> {
    return this.updateExperiment.execute(
      caller,
      keyParam(key),
      parseOrThrow(updateExperimentRequestSchema, body),
    );
  }

  @Post(':key/start')
  @Authorize('experiments:write', 'write')
  @HttpCode(200)
  @ApiOperation({ summary: 'draft|paused -> running' })
  @ApiResponse({ status: 200, schema: experimentResponseJsonSchema })
  @ApiResponse({ status: 409, description: 'invalid_transition' })
  start(@Param('key') key: string, @Caller() caller: ExperimentCaller): Promise<ExperimentResponse> {
    return this.changeStatus.execute(caller, keyParam(key), 'start');
  }

  @Post(':key/pause')
  @Authorize('experiments:write', 'write')
  @HttpCode(200)
  @ApiOperation({ summary: 'running -> paused (users get the control prompt, reason not-running)' })
  @ApiResponse({ status: 200, schema: experimentResponseJsonSchema })
  @ApiResponse({ status: 409, description: 'invalid_transition' })
  pause(@Param('key') key: string, @Caller() caller: ExperimentCaller): Promise<ExperimentResponse> {
    return this.changeStatus.execute(caller, keyParam(key), 'pause');
  }

  @Post(':key/stop')
  @Authorize('experiments:write', 'write')
  @HttpCode(200)
  @ApiOperation({ summary: 'any -> stopped (final)' })
  @ApiResponse({ status: 200, schema: experimentResponseJsonSchema })
  stop(@Param('key') key: string, @Caller() caller: ExperimentCaller): Promise<ExperimentResponse> {
    return this.changeStatus.execute(caller, keyParam(key), 'stop');
  }

  @Post(':key/phases')
  @Authorize('experiments:write', 'write')
  @HttpCode(201)
  @ApiOperation({ summary: 'Start a new phase (new seed; optionally new arms/weights/allocation)' })
  @ApiBody({ schema: openApiSchema(startPhaseRequestSchema) })
  @ApiResponse({ status: 201, schema: experimentResponseJsonSchema })
  @ApiResponse({ status: 400, description: 'validation_failed (the body, when sent, is an object)' })
  @ApiResponse({ status: 409, description: 'invalid_transition, experiment_stopped, seed_reused' })
  phase(
    @Param('key') key: string,
    @Body() body: unknown,
    @Caller() caller: ExperimentCaller,
  ): Promise<ExperimentResponse> {
    // No body at all means "all defaults"; any JSON body, null included, must be an object.
    const experiment = keyParam(key);
    const request = parseOrThrow(startPhaseRequestSchema, body === undefined ? {} : body);
    return this.startPhase.execute(caller, experiment, request);
  }
}
