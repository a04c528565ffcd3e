/**
 * Scopes an API key may hold. Each route requires exactly one:
 *
 * - `prompts:read` / `prompts:write`: read / register prompts and versions (registry).
 * - `prompts:promote`: move aliases (registry); a key may be limited to some aliases.
 * - `experiments:read` / `experiments:write`: read / create, change and run experiments (assignment).
 * - `assign`: ask for assignments (assignment's hot path).
 * - `ingest`: log generations and feedback (feedback).
 * - `results:read`: read experiment results (analytics).
 * - `datasets:read` / `datasets:write`: read datasets, their snapshots and downloads / define and
 *   delete datasets and build snapshots (datasets).
 * - `admin`: manage the keys and read the audit trail of the key's own project (identity).
 * - `platform:admin`: create and delete projects, and act on any project (identity).
 */
export const SCOPES = [
  'prompts:read',
  'prompts:write',
  'prompts:promote',
  'experiments:read',
  'experiments:write',
  'assign',
  'ingest',
  'results:read',
  'datasets:read',
  'datasets:write',
  'admin',
  'platform:admin',
] as const;

export type Scope = (typeof SCOPES)[number];

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/** What an `io.llmops.audit.recorded.v1` event says happened (`data.action`). */
export const AUDIT_ACTIONS = [
  'prompt.registered',
  'alias.moved',
  'alias.promotion-refused',
  'experiment.created',
  'experiment.updated',
  'experiment.started',
  'experiment.paused',
  'experiment.stopped',
  'experiment.phase-started',
  'key.created',
  'key.revoked',
  'project.created',
  'project.deleted',
  'dataset.created',
  'dataset.deleted',
  'dataset.snapshot-created',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
