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
import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type DiffResponse, DiffVersionsUseCase } from './diff-versions.usecase';
import { diffQuerySchema, paginationQuerySchema } from './dto/pagination.request';
import { NAME_PATTERN } from '../domain/prompt-spec';
import { registerVersionRequestSchema } from './dto/register-version.request';
import { renderPromptRequestSchema } from './dto/render-prompt.request';
import {
  promptListResponseSchema,
  registerVersionResponseSchema,
  type RegisterVersionResponse,
  versionListResponseSchema,
  versionResponseSchema,
} from './dto/version.response';
import { ReadPromptsUseCase } from './read-prompts.usecase';
import { RegisterVersionUseCase } from './register-version.usecase';
import { type RenderPromptResponse, RenderPromptUseCase } from './render-prompt.usecase';
import { ResolveVersionUseCase } from './resolve-version.usecase';
import { LATEST_ALIAS } from '../domain/ref';

const NAME_PARAM = {
  name: 'name',
  description: 'Prompt name, ^[a-z0-9][a-z0-9_.-]{0,127}$',
  example: 'summarizer',
  schema: { type: 'string', pattern: NAME_PATTERN.source },
};
const REF_DOC = 'Full hash, unique hash prefix (7+ hex), version number, or alias (e.g. production, latest)';

@ApiTags('prompts')
@Controller('v1/prompts')
export class PromptsController {
  constructor(
    private readonly register: RegisterVersionUseCase,
    private readonly resolver: ResolveVersionUseCase,
    private readonly read: ReadPromptsUseCase,
    private readonly renderer: RenderPromptUseCase,
    private readonly differ: DiffVersionsUseCase,
  ) {}

  @Post(':name/versions')
  @Authorize('prompts:write', 'write')
  @ApiOperation({ summary: 'Register a version (idempotent: the same spec returns the existing version)' })
  @ApiParam(NAME_PARAM)
  @ApiBody({ schema: openApiSchema(registerVersionRequestSchema) })
  @ApiResponse({
    status: 201,
    description: 'New version',
    schema: openApiSchema(registerVersionResponseSchema, 'output'),
  })
  @ApiResponse({ status: 200, description: 'Spec already registered (created: false)' })
  @ApiResponse({ status: 400, description: 'validation_failed, invalid_name, invalid_json' })
  @ApiResponse({ status: 413, description: 'payload_too_large, spec_too_large' })
  async registerVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
    @RequestCtx() ctx: RequestContext,
  ): Promise<RegisterVersionResponse> {
    const request = parseOrThrow(registerVersionRequestSchema, body);
    const result = await this.register.execute(principal, name, request, ctx);
    void reply.status(result.created ? 201 : 200);
    return result;
  }

  @Get()
  @Authorize('prompts:read', 'read')
  @ApiOperation({ summary: "List the key's project's prompt names with their newest version and aliases" })
  @ApiQueryFrom(paginationQuerySchema)
  @ApiResponse({ status: 200, schema: openApiSchema(promptListResponseSchema, 'output') })
  listPrompts(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const { limit, cursor } = parseOrThrow(paginationQuerySchema, query);
    return this.read.listPrompts(principal.project, limit, cursor);
  }

  @Get(':name/versions')
  @Authorize('prompts:read', 'read')
  @ApiOperation({ summary: 'List versions of a prompt, newest first' })
  @ApiParam(NAME_PARAM)
  @ApiQueryFrom(paginationQuerySchema)
  @ApiResponse({ status: 200, schema: openApiSchema(versionListResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'prompt_not_found' })
  listVersions(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Query() query: unknown,
  ) {
    const { limit, cursor } = parseOrThrow(paginationQuerySchema, query);
    return this.read.listVersions(principal.project, name, limit, cursor);
  }

  @Get(':name/versions/:ref')
  @Authorize('prompts:read', 'read')
  @Header('content-type', 'application/json; charset=utf-8')
  @ApiOperation({ summary: 'Get one version by ref' })
  @ApiParam(NAME_PARAM)
  @ApiParam({ name: 'ref', description: REF_DOC })
  @ApiResponse({ status: 200, schema: openApiSchema(versionResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'prompt_not_found, version_not_found' })
  @ApiResponse({ status: 409, description: 'ambiguous_ref (details.candidates lists the matches)' })
  async getVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Param('ref') ref: string,
  ): Promise<string> {
    // The body is serialized once per version and served from the cache as is.
    return (await this.resolver.resolve(principal.project, name, ref)).json;
  }

  @Get(':name/latest')
  @Authorize('prompts:read', 'read')
  @Header('content-type', 'application/json; charset=utf-8')
  @ApiOperation({ summary: 'Get the newest version' })
  @ApiParam(NAME_PARAM)
  @ApiResponse({ status: 200, schema: openApiSchema(versionResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'prompt_not_found' })
  async getLatest(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<string> {
    return (await this.resolver.resolve(principal.project, name, LATEST_ALIAS)).json;
  }

  @Post(':name/render')
  @Authorize('prompts:read', 'read')
  @HttpCode(200)
  @ApiOperation({ summary: 'Render a version with variables, ready to send to an LLM provider' })
  @ApiParam(NAME_PARAM)
  @ApiBody({ schema: openApiSchema(renderPromptRequestSchema) })
  @ApiResponse({
    status: 200,
    description:
      '{ name, hash, shortHash, version, model, params, text | messages, responseFormat?, tools? }',
  })
  @ApiResponse({ status: 404, description: 'prompt_not_found, version_not_found' })
  @ApiResponse({
    status: 422,
    description:
      'missing_variables (details.missing names every one), rendered_too_large (over REGISTRY_MAX_RENDERED_BYTES)',
  })
  render(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() body: unknown,
  ): Promise<RenderPromptResponse> {
    return this.renderer.execute(principal.project, name, parseOrThrow(renderPromptRequestSchema, body));
  }

  @Get(':name/diff')
  @Authorize('prompts:read', 'read')
  @ApiOperation({ summary: 'Structured diff of two versions: changed fields and line diffs of the texts' })
  @ApiParam(NAME_PARAM)
  @ApiQueryFrom(diffQuerySchema)
  @ApiResponse({
    status: 200,
    description: '{ from, to, identical, changedFields, changes[], text{template,system,messages} }',
  })
  @ApiResponse({ status: 404, description: 'prompt_not_found, version_not_found' })
  @ApiResponse({
    status: 422,
    description:
      'diff_too_large (a text over REGISTRY_DIFF_MAX_LINES lines), diff_too_different (over REGISTRY_DIFF_MAX_CHANGED_LINES changed lines or REGISTRY_DIFF_TIMEOUT_MS)',
  })
  diff(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Query() query: unknown,
  ): Promise<DiffResponse> {
    const { from, to } = parseOrThrow(diffQuerySchema, query);
    return this.differ.execute(principal.project, name, from, to);
  }
}
