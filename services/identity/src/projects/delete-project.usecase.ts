import { DEFAULT_PROJECT } from '@llmops/contracts';
import { AuditTrail, type Principal, type RequestContext } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { ApiKeyRepository } from '../persistence/api-key.repository';
import { ProjectRepository } from '../persistence/project.repository';
import { KeyPublisher } from './key-publisher';
import { ProjectNotFoundError, ProjectProtectedError } from './projects.errors';

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
   * answer 401 in every service. Idempotent: deleting again republishes (a retry after a broker
   * failure completes the job) and records nothing new. The route requires `platform:admin`.
   */
  async execute(principal: Principal, id: string, ctx: RequestContext): Promise<void> {
    if (id === DEFAULT_PROJECT) throw new ProjectProtectedError(id);
    const before = await this.projects.find(id);
    if (!before) throw new ProjectNotFoundError(id);
    await this.projects.markDeleted(id, new Date());
    const keys = await this.keys.allOfProject(id);
    await this.publisher.publish(keys, () => true, ctx);
    if (before.deletedAt === null) {
      await this.audit.record(
        { ...principal, project: id },
        { action: 'project.deleted', resource: id, details: { keys: keys.length } },
        ctx,
      );
    }
  }
}
