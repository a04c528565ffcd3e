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
  /** `${name}/${alias}/${rev}` */
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) name!: string;
  @Prop({ type: String, required: true }) alias!: string;
  @Prop({ type: Number, required: true }) rev!: number;
  @Prop({ type: String }) from!: string | null;
  @Prop({ type: Number }) fromVersion!: number | null;
  @Prop({ type: String, required: true }) to!: string;
  @Prop({ type: Number, required: true }) toVersion!: number;
  @Prop({ type: String, required: true }) actor!: string;
  @Prop({ type: Date, required: true }) movedAt!: Date;
  @Prop({ type: String }) correlationId?: string;
  @Prop({ type: String }) traceparent?: string;
}

export const AliasMoveSchema = SchemaFactory.createForClass(AliasMoveDocument);
// Current target (highest rev), history (newest first) and the CAS on the next rev.
AliasMoveSchema.index({ name: 1, alias: 1, rev: -1 }, { name: 'name_alias_rev_unique', unique: true });
// The outbox publisher's poll: { published: false }.
AliasMoveSchema.index({ published: 1 }, { name: 'published' });
