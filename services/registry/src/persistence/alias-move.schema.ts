import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OutboxState } from './outbox-state';

/**
 * Append-only log of alias moves: the current target of an alias is its move with the highest
 * `rev`. A move is written with `rev = current + 1`, and the unique index makes that insert the
 * compare-and-set: of two concurrent moves from the same state only one can take the next rev.
 * Each move is also its own outbox record (`published`), so the alias change, its history entry
 * and its event are one atomic write.
 */
@Schema({ collection: 'prompt_alias_moves', versionKey: false })
export class AliasMoveDocument extends OutboxState {
  /** `scopedId(project, name, alias, rev)` */
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) project!: string;
  @Prop({ type: String, required: true }) name!: string;
  @Prop({ type: String, required: true }) alias!: string;
  @Prop({ type: Number, required: true }) rev!: number;
  @Prop({ type: String }) from!: string | null;
  @Prop({ type: Number }) fromVersion!: number | null;
  @Prop({ type: String, required: true }) to!: string;
  @Prop({ type: Number, required: true }) toVersion!: number;
  /**
   * The key id that moved it. Moves recorded before API keys have none: the actor they claimed is
   * their `note`.
   */
  @Prop({ type: String }) actor?: string;
  /** Free text given with the move (at most 256 characters). */
  @Prop({ type: String }) note?: string;
  @Prop({ type: Date, required: true }) movedAt!: Date;
  @Prop({ type: String }) correlationId?: string;
  @Prop({ type: String }) traceparent?: string;
}

export const AliasMoveSchema = SchemaFactory.createForClass(AliasMoveDocument);
// Current target (highest rev), history (newest first) and the CAS on the next rev.
AliasMoveSchema.index(
  { project: 1, name: 1, alias: 1, rev: -1 },
  { name: 'project_name_alias_rev_unique', unique: true },
);
/** The per-name unique index of the moves before projects, dropped at boot. */
export const OBSOLETE_ALIAS_MOVE_INDEXES = ['name_alias_rev_unique'] as const;
// The outbox publisher's poll: { published: false }.
AliasMoveSchema.index({ published: 1 }, { name: 'published' });
