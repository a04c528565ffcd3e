import type { mongo } from 'mongoose';
import type { OutboxState } from './outbox-state';
import type { PromptMetadata } from '../domain/prompt-spec';

export const PROMPT_VERSIONS_COLLECTION = 'prompt_versions';

/**
 * One immutable version. The document is also its own outbox record: `published` is false when it
 * is inserted (in the same single-document, atomic write as the version itself) and set to true by
 * the outbox publisher after the broker acknowledged the prompt-version-registered event.
 */
export interface PromptVersionDocument extends OutboxState {
  /** `${name}/${hash}`: names and hashes cannot contain "/". */
  _id: string;
  name: string;
  hash: string;
  version: number;
  /**
   * The spec as its RFC 8785 canonical JSON text, exactly the bytes that were hashed. Stored as a
   * string, not a sub-document: specs are arbitrary JSON and FerretDB rejects nested arrays
   * (e.g. `params.stop: [["a"]]`); it also lets anyone re-verify the hash from the database.
   */
  specCanonical: string;
  metadata?: PromptMetadata;
  createdAt: Date;
  /** Context of the request that created it, carried into the event's Kafka headers. */
  correlationId?: string;
  traceparent?: string;
}

export const PROMPT_VERSION_INDEXES: mongo.IndexDescription[] = [
  // Lookup by full hash and by hash prefix (range on hash); unique = a spec is registered once per name.
  { key: { name: 1, hash: 1 }, name: 'name_hash_unique', unique: true },
  // Version-number allocation (insert with max+1 fails on a race), lookup by number, newest-first lists.
  { key: { name: 1, version: -1 }, name: 'name_version_unique', unique: true },
  // The outbox publisher's poll: { published: false }.
  { key: { published: 1 }, name: 'published' },
];
