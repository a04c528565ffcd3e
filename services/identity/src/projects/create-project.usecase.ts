import { AuditTrail, type Principal, type RequestContext } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { type Project, ProjectRepository } from '../persistence/project.repository';
import type { CreateProjectRequest } from './dto/create-project.request';
import { ProjectExistsError } from './projects.errors';

@Injectable()
export class CreateProjectUseCase {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly audit: AuditTrail,
  ) {}

  /** The route requires `platform:admin`. The new project's trail starts with its creation. */
  async execute(principal: Principal, request: CreateProjectRequest, ctx: RequestContext): Promise<Project> {
    const project = {
      id: request.id,
      name: request.name ?? request.id,
      createdBy: principal.keyId,
      createdAt: new Date(),
    };
    if ((await this.projects.create(project)) === 'exists') throw new ProjectExistsError(request.id);
    await this.audit.record(
      { ...principal, project: project.id },
      { action: 'project.created', resource: project.id, details: { name: project.name } },
      ctx,
    );
    return { ...project, createdAt: project.createdAt.toISOString(), deletedAt: null };
  }
}
