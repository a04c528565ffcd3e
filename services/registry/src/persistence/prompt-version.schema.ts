import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { PromptMetadata } from '../domain/prompt-spec';
import { OutboxState } from './outbox-state';

/**
 * One immutable version. The document is also its own outbox record: `published` is false when it
 * is inserted (in the same single-document, atomic write as the version itself) and set to true by
 * the outbox publisher after the broker acknowledged the prompt-version-registered event.
 */
@Schema({ collection: 'prompt_versions', versionKey: false })
export class PromptVersionDocument extends OutboxState {
  /** `scopedId(project, name, hash)`: `${name}/${hash}` in project `default`, else `${project}/${name}/${hash}`. */
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) project!: string;
  @Prop({ type: String, required: true }) name!: string;
  @Prop({ type: String, required: true }) hash!: string;
  @Prop({ type: Number, required: true }) version!: number;
  /**
   * The spec as its RFC 8785 canonical JSON text, exactly the bytes that were hashed. Stored as a
   * string, not a sub-document: specs are arbitrary JSON and FerretDB rejects nested arrays
   * (e.g. `params.stop: [["a"]]`); it also lets anyone re-verify the hash from the database.
   */
  @Prop({ type: String, required: true }) specCanonical!: string;
  @Prop({ type: Object }) metadata?: PromptMetadata;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  /** The key id that registered it (absent on versions registered before API keys). */
  @Prop({ type: String }) actor?: string;
  /** Context of the request that created it, carried into the event's Kafka headers. */
  @Prop({ type: String }) correlationId?: string;
  @Prop({ type: String }) traceparent?: string;
}

export const PromptVersionSchema = SchemaFactory.createForClass(PromptVersionDocument);
// Lookup by hash prefix (range on hash); unique = a spec is registered once per name and project.
PromptVersionSchema.index(
  { project: 1, name: 1, hash: 1 },
  { name: 'project_name_hash_unique', unique: true },
);
// Version-number allocation (insert with max+1 fails on a race), lookup by number, newest-first lists.
PromptVersionSchema.index(
  { project: 1, name: 1, version: -1 },
  { name: 'project_name_version_unique', unique: true },
);
/** The per-name unique indexes of the versions before projects, dropped at boot. */
export const OBSOLETE_VERSION_INDEXES = ['name_hash_unique', 'name_version_unique'] as const;
// The outbox publisher's poll: { published: false }.
PromptVersionSchema.index({ published: 1 }, { name: 'published' });
