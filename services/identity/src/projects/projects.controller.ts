import {
  Authorize,
  CurrentPrincipal,
  openApiSchema,
  parseOrThrow,
  type Principal,
  type RequestContext,
  RequestCtx,
} from '@llmops/platform';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CreateProjectUseCase } from './create-project.usecase';
import { DeleteProjectUseCase } from './delete-project.usecase';
import { createProjectRequestSchema } from './dto/create-project.request';
import { PROJECT_PARAM, projectParam } from './dto/project-param';
import { projectResponseSchema, type ProjectResponse, toProjectResponse } from './dto/project.response';
import { ProjectAccess } from './project-access';

@ApiTags('projects')
@Controller('v1/projects')
export class ProjectsController {
  constructor(
    private readonly createProject: CreateProjectUseCase,
    private readonly deleteProject: DeleteProjectUseCase,
    private readonly access: ProjectAccess,
  ) {}

  @Post()
  @Authorize('platform:admin', 'write')
  @ApiOperation({ summary: 'Create a project (platform:admin)' })
  @ApiBody({ schema: openApiSchema(createProjectRequestSchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(projectResponseSchema, 'output') })
  @ApiResponse({ status: 400, description: 'validation_failed (a malformed id: details.issues)' })
  @ApiResponse({ status: 409, description: 'project_exists (ids are never reused, also after deletion)' })
  async create(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @RequestCtx() ctx: RequestContext,
  ): Promise<ProjectResponse> {
    const request = parseOrThrow(createProjectRequestSchema, body);
    return toProjectResponse(await this.createProject.execute(principal, request, ctx));
  }

  @Get(':project')
  @Authorize('admin', 'read')
  @ApiOperation({ summary: 'A project (admin of that project, or platform:admin)' })
  @ApiParam(PROJECT_PARAM)
  @ApiResponse({ status: 200, schema: openApiSchema(projectResponseSchema, 'output') })
  @ApiResponse({ status: 404, description: 'project_not_found (also for a project the key may not see)' })
  async get(
    @Param('project') project: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ProjectResponse> {
    return toProjectResponse(await this.access.administered(principal, projectParam(project)));
  }

  @Delete(':project')
  @HttpCode(204)
  @Authorize('platform:admin', 'write')
  @ApiOperation({
    summary: 'Delete a project (platform:admin): its keys stop working in every service; idempotent',
  })
  @ApiParam(PROJECT_PARAM)
  @ApiResponse({ status: 204, description: 'Deleted; every key of the project is republished as deleted' })
  @ApiResponse({ status: 404, description: 'project_not_found' })
  @ApiResponse({ status: 409, description: 'project_protected (default)' })
  async delete(
    @Param('project') project: string,
    @CurrentPrincipal() principal: Principal,
    @RequestCtx() ctx: RequestContext,
  ): Promise<void> {
    await this.deleteProject.execute(principal, projectParam(project), ctx);
  }
}
