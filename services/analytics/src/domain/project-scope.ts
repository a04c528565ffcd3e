/**
 * Projects share every collection and every partition, so each id a project's data is found by is
 * scoped by its project. The `default` project keeps the bare id (documents written before projects
 * existed are `default`'s and keep their ids); another project prefixes it.
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';

/** `<project>/<experiment key>`, the experiments topic's key form (experiment keys cannot contain `/`). */
export function experimentScope(project: string, experiment: string): string {
  return project === DEFAULT_PROJECT ? experiment : `${project}/${experiment}`;
}

/**
 * A request or feedback id of `project`. Those ids are opaque text that may contain `/` but never a
 * control character, so U+001F separates the project.
 */
export function idScope(project: string, id: string): string {
  return project === DEFAULT_PROJECT ? id : `${project}\u001f${id}`;
}
