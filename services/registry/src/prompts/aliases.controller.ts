import {
  ApiQueryFrom,
  Authorize,
  CurrentPrincipal,
  openApiSchema,
  parseOrThrow,
  type Principal,
  type RequestContext,
  RequestCtx,
} from '@llmops/platform';
import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { LATEST_ALIAS } from '../domain/ref';
import { NAME_PATTERN } from '../domain/prompt-spec';
import { moveAliasRequestSchema } from './dto/move-alias.request';
import { paginationQuerySchema } from './dto/pagination.request';
import {
  aliasHistoryResponseSchema,
  type AliasHistoryResponse,
  aliasResponseSchema,
  type AliasResponse,
} from './dto/version.response';
import { MoveAliasUseCase } from './move-alias.usecase';
import { ReadAliasesUseCase } from './read-aliases.usecase';
import { assertPromptName, ResolveVersionUseCase } from './resolve-version.usecase';
import { AliasNotFoundError } from './prompts.errors';

const NAME_SCHEMA = { type: 'string' as const, pattern: NAME_PATTERN.source };
const NAME_PARAM = { name: 'name', description: 'Prompt name', example: 'summarizer', schema: NAME_SCHEMA };
const ALIAS_PARAM = {
  name: 'alias',
  description: 'Alias name, e.g. production',
  example: 'production',
  schema: NAME_SCHEMA,
};
/** An alias a client may set: what `aliasNameProblem` accepts. */
const SETTABLE_ALIAS_PARAM = {
  ...ALIAS_PARAM,
  description: 'Alias name, e.g. production; not `latest`, not all digits, not 7+ hex characters',
  schema: {
    ...NAME_SCHEMA,
    not: {
      anyOf: [{ const: LATEST_ALIAS }, { pattern: '^[0-9]+$' }, { pattern: '^[0-9a-f]{7,}$' }],
    },
  },
};

@ApiTags('aliases')
@Controller('v1/prompts/:name/aliases')
export class AliasesController {
  constructor(
    private readonly mover: MoveAliasUseCase,
    private readonly reader: ReadAliasesUseCase,
    private readonly resolver: ResolveVersionUseCase,
  ) {}

  @Put(':alias')
  @Authorize('prompts:promote', 'write')
  @ApiOperation({
    summary:
      'Move (or create) an alias; with `expected` it is compare-and-set. A key limited to some aliases gets 403 for the others.',
  })
  @ApiParam(NAME_PARAM)
  @ApiParam(SETTABLE_ALIAS_PARAM)
  @ApiBody({ schema: openApiSchema(moveAliasRequestSchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(aliasResponseSchema, 'output') })
  @ApiResponse({ status: 400, description: 'validation_failed, invalid_alias, reserved_alias (latest)' })
  @ApiResponse({ status: 404, description: 'prompt_not_found, version_not_found (the ref)' })
  @ApiResponse({ status: 409, description: 'alias_conflict (expected does not match), ambiguous_ref' })
  move(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Param('alias') alias: string,
    @Body() body: unknown,
    @RequestCtx() ctx: RequestContext,
  ): Promise<AliasResponse> {
    const request = parseOrThrow(moveAliasRequestSchema, body);
    return this.mover.execute(principal, name, alias, request, ctx);
  }

  @Get(':alias')
  @Authorize('prompts:read', 'read')
  @ApiOperation({ summary: 'Where an alias points now' })
  @ApiParam(NAME_PARAM)
  @ApiParam(ALIAS_PARAM)
  @ApiResponse({ status: 200, description: '{ name, alias, hash, shortHash, version }' })
  @ApiResponse({ status: 404, description: 'alias_not_found, prompt_not_found' })
  async get(
    @CurrentPrincipal() { project }: Principal,
    @Param('name') name: string,
    @Param('alias') alias: string,
  ) {
    assertPromptName(name);
    const hash = await this.resolver.aliasTarget(project, name, alias);
    if (hash === null) throw new AliasNotFoundError(name, alias);
    const { version } = await this.resolver.resolve(project, name, hash);
    return { name, alias, hash, shortHash: version.shortHash, version: version.version };
  }

  @Get(':alias/history')
  @Authorize('prompts:read', 'read')
  @ApiOperation({ summary: 'Every move of an alias, newest first: time, from, to, actor (key id), note' })
  @ApiParam(NAME_PARAM)
  @ApiParam(ALIAS_PARAM)
  @ApiQueryFrom(paginationQuerySchema)
  @ApiResponse({ status: 200, schema: openApiSchema(aliasHistoryResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'alias_not_found, prompt_not_found' })
  history(
    @CurrentPrincipal() { project }: Principal,
    @Param('name') name: string,
    @Param('alias') alias: string,
    @Query() query: unknown,
  ): Promise<AliasHistoryResponse> {
    const { limit, cursor } = parseOrThrow(paginationQuerySchema, query);
    return this.reader.history(project, name, alias, limit, cursor);
  }
}
