import { AuditTrail, type Principal, type RequestContext } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { type Project, ProjectRepository } from '../persistence/project.repository';
import type { CreateProjectRequest } from './dto/create-project.request';
import { ProjectExistsError } from './projects.errors';
import { changeEventId } from './change-event-id';

@Injectable()
export class CreateProjectUseCase {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * The route requires `platform:admin`. The new project's trail starts with its creation. When the
   * id is taken by a project whose creation was not recorded yet (its audit event failed), the 409
   * sends that event first: a retry after a broker failure completes the trail.
   */
  async execute(principal: Principal, request: CreateProjectRequest, ctx: RequestContext): Promise<Project> {
    const project = {
      id: request.id,
      name: request.name ?? request.id,
      createdBy: principal.keyId,
      createdAt: new Date(),
    };
    if ((await this.projects.create(project)) === 'exists') {
      const existing = await this.projects.find(request.id);
      if (existing && !existing.createAudited) await this.recordCreation(principal, existing, ctx);
      throw new ProjectExistsError(request.id);
    }
    const created: Project = {
      ...project,
      createdAt: project.createdAt.toISOString(),
      deletedAt: null,
      createAudited: false,
      deleteAudited: true,
    };
    await this.recordCreation(principal, created, ctx);
    return created;
  }

  /** The creation's audit event (actor: the key that created it), under an id derived from the project. */
  private async recordCreation(principal: Principal, project: Project, ctx: RequestContext): Promise<void> {
    await this.audit.record(
      { ...principal, keyId: project.createdBy, project: project.id },
      { action: 'project.created', resource: project.id, details: { name: project.name } },
      ctx,
      { id: changeEventId('project.created', project.id), time: project.createdAt },
    );
    await this.projects.markAudited(project.id, 'createAudited');
  }
}
