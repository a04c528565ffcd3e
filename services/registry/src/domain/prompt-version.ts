import { SHORT_HASH_LENGTH } from '@llmops/hashing';
import type { PromptMetadata, PromptSpec } from './prompt-spec';

/** A stored version as the rest of the service sees it (plain, immutable). */
export interface PromptVersion {
  readonly project: string;
  readonly name: string;
  readonly hash: string;
  readonly shortHash: string;
  readonly version: number;
  readonly spec: PromptSpec;
  readonly metadata?: PromptMetadata;
  readonly createdAt: string;
  /** The key id that registered it; absent for versions registered before API keys. */
  readonly actor?: string;
}

export interface AliasMove {
  readonly project: string;
  readonly name: string;
  readonly alias: string;
  readonly rev: number;
  readonly from: string | null;
  readonly fromVersion: number | null;
  readonly to: string;
  readonly toVersion: number;
  /** The key id that moved it (`unauthenticated` for moves made before API keys). */
  readonly actor: string;
  /** Free text the caller gave with the move. */
  readonly note?: string;
  readonly movedAt: string;
}

/** The actor of changes recorded before API keys existed (their claimed actor became a `note`). */
export const UNAUTHENTICATED_ACTOR = 'unauthenticated';

export const shortHashOf = (hash: string): string => hash.slice(0, SHORT_HASH_LENGTH);
