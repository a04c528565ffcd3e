import type { Principal } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { type Project, ProjectRepository } from '../persistence/project.repository';
import { ProjectNotFoundError } from './projects.errors';

export function isPlatformAdmin(principal: Principal): boolean {
  return principal.scopes.has('platform:admin');
}

/**
 * Who may administer a project (its keys; reading it): a key of that project with `admin`, or a
 * `platform:admin` key. Everyone else gets the same 404 as for a project that does not exist, so a
 * key never learns which other projects exist.
 */
@Injectable()
export class ProjectAccess {
  constructor(private readonly projects: ProjectRepository) {}

  async administered(principal: Principal, id: string): Promise<Project> {
    const allowed = isPlatformAdmin(principal) || (principal.project === id && principal.scopes.has('admin'));
    const project = allowed ? await this.projects.find(id) : null;
    if (!project || project.deletedAt !== null) throw new ProjectNotFoundError(id);
    return project;
  }
}
