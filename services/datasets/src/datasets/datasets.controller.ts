import { DATASET_NAME_PATTERN } from '@llmops/contracts';
import {
  ApiQueryFrom,
  Authorize,
  CurrentPrincipal,
  openApiSchema,
  pageQuerySchema,
  parseOrThrow,
  type Principal,
  type RequestContext,
  RequestCtx,
} from '@llmops/platform';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { CreateSnapshotUseCase } from './create-snapshot.usecase';
import { datasetDefinitionSchema } from './dto/dataset-definition.request';
import {
  datasetListResponseSchema,
  type DatasetResponse,
  datasetResponseSchema,
  snapshotListResponseSchema,
  type SnapshotResponse,
  snapshotResponseSchema,
  toSnapshotResponse,
} from './dto/dataset.response';
import { DatasetNotFoundError } from './datasets.errors';
import { ManageDatasetsUseCase } from './manage-datasets.usecase';
import { ReadSnapshotsUseCase } from './read-snapshots.usecase';

/** `?limit=&cursor=` of both lists; anything else is refused. */
const listQuerySchema = pageQuerySchema();
/** A snapshot request has no options: no body, or an empty object. */
const snapshotRequestSchema = z.strictObject({});

const NAME_PARAM = { name: 'name', description: 'Dataset name' };
const REF_PARAM = { name: 'ref', description: 'Snapshot id (64 hex), sequence number, or latest' };
/** Every route reads or writes the database. */
const UNAVAILABLE = {
  status: 503,
  description:
    'database_unavailable (the database did not answer within the operation deadline), ' +
    'broker_unavailable (changes: the audit event was not sent), service_unavailable; Retry-After',
};

/** A name that cannot exist answers like any missing dataset. */
function nameParam(name: string): string {
  if (!DATASET_NAME_PATTERN.test(name)) throw new DatasetNotFoundError(name);
  return name;
}

/**
 * Datasets of the caller's project and their snapshots: reads need `datasets:read`, changes
 * `datasets:write`. Another project's dataset answers 404 `dataset_not_found`, like a missing one.
 */
@ApiTags('datasets')
@Controller('v1/datasets')
export class DatasetsController {
  constructor(
    private readonly datasets: ManageDatasetsUseCase,
    private readonly createSnapshot: CreateSnapshotUseCase,
    private readonly snapshots: ReadSnapshotsUseCase,
  ) {}

  @Post()
  @Authorize('datasets:write', 'write')
  @ApiOperation({ summary: 'Define a dataset: which examples, in which format, split and options' })
  @ApiBody({ schema: openApiSchema(datasetDefinitionSchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(datasetResponseSchema, 'output') })
  @ApiResponse({ status: 400, description: 'validation_failed (details.issues names every field path)' })
  @ApiResponse({ status: 409, description: 'dataset_exists' })
  @ApiResponse(UNAVAILABLE)
  create(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @RequestCtx() ctx: RequestContext,
  ): Promise<DatasetResponse> {
    return this.datasets.create(principal, parseOrThrow(datasetDefinitionSchema, body), ctx);
  }

  @Get()
  @Authorize('datasets:read', 'read')
  @ApiOperation({ summary: 'List datasets in name order, one page at a time' })
  @ApiQueryFrom(listQuerySchema)
  @ApiResponse({ status: 200, schema: openApiSchema(datasetListResponseSchema, 'output') })
  @ApiResponse({
    status: 400,
    description: 'validation_failed (bad limit, unknown parameter), invalid_cursor',
  })
  @ApiResponse(UNAVAILABLE)
  list(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const { limit, cursor } = parseOrThrow(listQuerySchema, query ?? {}, 'query');
    return this.datasets.list(principal.project, limit, cursor);
  }

  @Get(':name')
  @Authorize('datasets:read', 'read')
  @ApiOperation({ summary: 'Read a dataset definition' })
  @ApiParam(NAME_PARAM)
  @ApiResponse({ status: 200, schema: openApiSchema(datasetResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'dataset_not_found' })
  @ApiResponse(UNAVAILABLE)
  get(@Param('name') name: string, @CurrentPrincipal() principal: Principal): Promise<DatasetResponse> {
    return this.datasets.get(principal.project, nameParam(name));
  }

  @Delete(':name')
  @HttpCode(204)
  @Authorize('datasets:write', 'write')
  @ApiOperation({ summary: 'Delete a dataset with all its snapshots and their records' })
  @ApiParam(NAME_PARAM)
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiResponse({ status: 404, description: 'dataset_not_found' })
  @ApiResponse(UNAVAILABLE)
  async delete(
    @Param('name') name: string,
    @CurrentPrincipal() principal: Principal,
    @RequestCtx() ctx: RequestContext,
  ): Promise<void> {
    await this.datasets.delete(principal, nameParam(name), ctx);
  }

  @Post(':name/snapshots')
  @Authorize('datasets:write', 'write')
  @ApiOperation({
    summary: 'Take a snapshot: freeze the records the dataset matches now',
    description:
      'The snapshot id is the SHA-256 of the canonical JSON of the ordered records. Records equal to an ' +
      "existing snapshot's answer that snapshot (200); otherwise a new snapshot with the next sequence " +
      'number (201) and an io.llmops.dataset.snapshot.created.v1 event.',
  })
  @ApiParam(NAME_PARAM)
  @ApiResponse({
    status: 201,
    description: 'New snapshot',
    schema: openApiSchema(snapshotResponseSchema, 'output'),
  })
  @ApiResponse({
    status: 200,
    description: 'The records equal an existing snapshot, which is the answer',
    schema: openApiSchema(snapshotResponseSchema, 'output'),
  })
  @ApiResponse({ status: 404, description: 'dataset_not_found' })
  @ApiResponse({ status: 422, description: 'prompt_alias_not_found (the filter names an alias never seen)' })
  @ApiResponse({
    status: 503,
    description:
      'database_unavailable (the database cannot be reached; a build has no operation deadline, so a ' +
      'slow database makes it slower, not failed), broker_unavailable (the announcement was not sent; ' +
      'the same request again finishes it), service_unavailable; Retry-After',
  })
  async snapshot(
    @Param('name') name: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @RequestCtx() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SnapshotResponse> {
    const dataset = nameParam(name);
    parseOrThrow(snapshotRequestSchema, body ?? {});
    const result = await this.createSnapshot.execute(principal, dataset, ctx);
    void reply.status(result.created ? 201 : 200);
    return toSnapshotResponse(result.snapshot);
  }

  @Get(':name/snapshots')
  @Authorize('datasets:read', 'read')
  @ApiOperation({ summary: "List a dataset's snapshots in sequence order, one page at a time" })
  @ApiParam(NAME_PARAM)
  @ApiQueryFrom(listQuerySchema)
  @ApiResponse({ status: 200, schema: openApiSchema(snapshotListResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'dataset_not_found' })
  @ApiResponse(UNAVAILABLE)
  listSnapshots(
    @Param('name') name: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const { limit, cursor } = parseOrThrow(listQuerySchema, query ?? {}, 'query');
    return this.snapshots.list(principal.project, nameParam(name), limit, cursor);
  }

  @Get(':name/snapshots/:ref')
  @Authorize('datasets:read', 'read')
  @ApiOperation({ summary: 'Read a snapshot by id, sequence number or latest' })
  @ApiParam(NAME_PARAM)
  @ApiParam(REF_PARAM)
  @ApiResponse({ status: 200, schema: openApiSchema(snapshotResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'dataset_not_found, snapshot_not_found' })
  @ApiResponse(UNAVAILABLE)
  getSnapshot(
    @Param('name') name: string,
    @Param('ref') ref: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SnapshotResponse> {
    return this.snapshots.get(principal.project, nameParam(name), ref);
  }
}
