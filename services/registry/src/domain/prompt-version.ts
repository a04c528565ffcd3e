import { SHORT_HASH_LENGTH } from '@llmops/hashing';
import type { PromptMetadata, PromptSpec } from './prompt-spec';

/** A stored version as the rest of the service sees it (plain, immutable). */
export interface PromptVersion {
  readonly name: string;
  readonly hash: string;
  readonly shortHash: string;
  readonly version: number;
  readonly spec: PromptSpec;
  readonly metadata?: PromptMetadata;
  readonly createdAt: string;
}

export interface AliasMove {
  readonly name: string;
  readonly alias: string;
  readonly rev: number;
  readonly from: string | null;
  readonly fromVersion: number | null;
  readonly to: string;
  readonly toVersion: number;
  readonly actor: string;
  readonly movedAt: string;
}

export const shortHashOf = (hash: string): string => hash.slice(0, SHORT_HASH_LENGTH);
