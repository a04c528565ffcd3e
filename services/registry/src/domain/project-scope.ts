/**
 * Ids of documents and events scoped to a project. Project `default` keeps the ids this service
 * used before projects existed (`summarizer/<hash>`), so documents written then are found under the
 * same `_id` and their events keep their ids; every other project's ids start with the project
 * (`team-a/summarizer/<hash>`). Project ids, prompt names and alias names cannot contain "/", so the
 * two forms never collide.
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';

export function scopedId(project: string, ...parts: ReadonlyArray<string | number>): string {
  const id = parts.join('/');
  return project === DEFAULT_PROJECT ? id : `${project}/${id}`;
}

/** The unscoped part of a `scopedId(project, part)`. */
export function unscopedPart(project: string, id: string): string {
  return project === DEFAULT_PROJECT ? id : id.slice(project.length + 1);
}
