import { AppError, ConflictError, NotFoundError } from '@llmops/platform';

/** Also the answer for a project the key may not see: it never learns whether the project exists. */
export class ProjectNotFoundError extends NotFoundError {
  constructor(project: string) {
    super('project_not_found', `No project "${project}".`, { project });
  }
}

export class ProjectExistsError extends ConflictError {
  constructor(project: string) {
    super(
      'project_exists',
      `Project "${project}" exists or existed: project ids are never reused. Choose another id.`,
      { project },
    );
  }
}

export class ProjectProtectedError extends AppError {
  constructor(project: string) {
    super(
      409,
      'project_protected',
      `Project "${project}" holds the bootstrap admin key and the data written before projects existed; it cannot be deleted.`,
      { project },
    );
  }
}

/** Also the answer for a key of another project. */
export class KeyNotFoundError extends NotFoundError {
  constructor(project: string, keyId: string) {
    super('key_not_found', `Project "${project}" has no API key "${keyId}".`, { project, keyId });
  }
}
