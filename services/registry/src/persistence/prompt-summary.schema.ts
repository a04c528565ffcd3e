import type { mongo } from 'mongoose';

/**
 * Read models for `GET /v1/prompts` (FerretDB cannot $group with $max/$first, so the newest
 * version and the alias targets per name are kept as documents). They are derived data: the request
 * path updates them best-effort and the outbox publisher re-applies every event before marking it
 * published, so a crash between the two writes only delays them. Updates are guarded by
 * version/rev, so re-applying or applying out of order never moves them backwards.
 */
export const PROMPTS_COLLECTION = 'prompts';
export const PROMPT_ALIASES_COLLECTION = 'prompt_aliases';

export interface PromptDocument {
  /** The prompt name (list pages are ranges on _id). */
  _id: string;
  latestVersion: number;
  latestHash: string;
  latestCreatedAt: Date;
}

export interface PromptAliasDocument {
  /** `${name}/${alias}` */
  _id: string;
  name: string;
  alias: string;
  hash: string;
  version: number;
  rev: number;
  movedAt: Date;
}

export const PROMPT_ALIAS_INDEXES: mongo.IndexDescription[] = [
  // Aliases of the names on one page of GET /v1/prompts: { name: { $in: [...] } }.
  { key: { name: 1 }, name: 'name' },
];
