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
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CreateKeyUseCase } from './create-key.usecase';
import { createKeyRequestSchema } from './dto/create-key.request';
import {
  createdKeyResponseSchema,
  type CreatedKeyResponse,
  keyListResponseSchema,
  type KeyListResponse,
  keyResponseSchema,
  type KeyResponse,
} from './dto/key.response';
import { PROJECT_PARAM, projectParam } from './dto/project-param';
import { ReadKeysUseCase } from './read-keys.usecase';
import { RevokeKeyUseCase } from './revoke-key.usecase';

const keyListQuerySchema = pageQuerySchema();
const KEY_ID_PARAM = {
  name: 'keyId',
  description: 'Key id (the public part of the key)',
  schema: { type: 'string' as const, pattern: '^[0-9a-f]{20}$' },
};

@ApiTags('keys')
@Controller('v1/projects/:project/keys')
export class KeysController {
  constructor(
    private readonly createKey: CreateKeyUseCase,
    private readonly read: ReadKeysUseCase,
    private readonly revokeKey: RevokeKeyUseCase,
  ) {}

  @Post()
  @Authorize('admin', 'write')
  @ApiOperation({
    summary: 'Create an API key; the answer holds the plain key, shown this once',
    description:
      'admin of the project, or platform:admin. A key with platform:admin can only be created by a platform:admin key.',
  })
  @ApiParam(PROJECT_PARAM)
  @ApiBody({ schema: openApiSchema(createKeyRequestSchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(createdKeyResponseSchema, 'output') })
  @ApiResponse({
    status: 400,
    description: 'validation_failed: unknown scope, bad alias, expiry not in the future (details.issues)',
  })
  @ApiResponse({ status: 404, description: 'project_not_found (also for a project the key may not see)' })
  create(
    @Param('project') project: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @RequestCtx() ctx: RequestContext,
  ): Promise<CreatedKeyResponse> {
    const valid = projectParam(project);
    return this.createKey.execute(principal, valid, parseOrThrow(createKeyRequestSchema, body), ctx);
  }

  @Get()
  @Authorize('admin', 'read')
  @ApiOperation({ summary: "A project's keys by key id, revoked ones included; never a secret or hash" })
  @ApiParam(PROJECT_PARAM)
  @ApiQueryFrom(keyListQuerySchema)
  @ApiResponse({ status: 200, schema: openApiSchema(keyListResponseSchema, 'output') })
  @ApiResponse({ status: 400, description: 'validation_failed, invalid_cursor' })
  @ApiResponse({ status: 404, description: 'project_not_found' })
  list(
    @Param('project') project: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<KeyListResponse> {
    const { limit, cursor } = parseOrThrow(keyListQuerySchema, query);
    return this.read.list(principal, projectParam(project), limit, cursor);
  }

  @Get(':keyId')
  @Authorize('admin', 'read')
  @ApiOperation({ summary: 'One key (never its secret or hash)' })
  @ApiParam(PROJECT_PARAM)
  @ApiParam(KEY_ID_PARAM)
  @ApiResponse({ status: 200, schema: openApiSchema(keyResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'project_not_found, key_not_found' })
  get(
    @Param('project') project: string,
    @Param('keyId') keyId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<KeyResponse> {
    // A malformed key id names no key: the lookup answers 404 like for any unknown one.
    return this.read.get(principal, projectParam(project), keyId);
  }

  @Delete(':keyId')
  @HttpCode(204)
  @Authorize('admin', 'write')
  @ApiOperation({ summary: 'Revoke a key: it answers 401 in every service within seconds; idempotent' })
  @ApiParam(PROJECT_PARAM)
  @ApiParam(KEY_ID_PARAM)
  @ApiResponse({ status: 204, description: 'Revoked (or already revoked); the change is on Kafka' })
  @ApiResponse({ status: 404, description: 'project_not_found, key_not_found' })
  async revoke(
    @Param('project') project: string,
    @Param('keyId') keyId: string,
    @CurrentPrincipal() principal: Principal,
    @RequestCtx() ctx: RequestContext,
  ): Promise<void> {
    await this.revokeKey.execute(principal, projectParam(project), keyId, ctx);
  }
}
