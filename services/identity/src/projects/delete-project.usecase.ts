import { DEFAULT_PROJECT } from '@llmops/contracts';
import { AuditTrail, type Principal, type RequestContext } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { ApiKeyRepository } from '../persistence/api-key.repository';
import { ProjectRepository } from '../persistence/project.repository';
import { KeyPublisher } from './key-publisher';
import { ProjectNotFoundError, ProjectProtectedError } from './projects.errors';
import { changeEventId } from './change-event-id';

@Injectable()
export class DeleteProjectUseCase {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly keys: ApiKeyRepository,
    private readonly publisher: KeyPublisher,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Marks the project deleted, then republishes every key of it with `projectDeleted: true`, so they
   * answer 401 in every service, and records the audit event unless that was done. Idempotent:
   * deleting again republishes and sends a still pending audit event (its id derives from the
   * project, so it is stored once): a retry after a broker failure completes the job. The route
   * requires `platform:admin`.
   */
  async execute(principal: Principal, id: string, ctx: RequestContext): Promise<void> {
    if (id === DEFAULT_PROJECT) throw new ProjectProtectedError(id);
    const project = await this.projects.markDeleted(id, new Date());
    if (!project) throw new ProjectNotFoundError(id);
    const keys = await this.keys.allOfProject(id);
    await this.publisher.publish(keys, () => true, ctx);
    if (!project.deleteAudited) {
      await this.audit.record(
        { ...principal, project: id },
        { action: 'project.deleted', resource: id, details: { keys: keys.length } },
        ctx,
        { id: changeEventId('project.deleted', id), time: project.deletedAt ?? undefined },
      );
      await this.projects.markAudited(id, 'deleteAudited');
    }
  }
}
