import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** What the registry did with an experiment phase's winner decision. */
export const PROMOTION_OUTCOMES = ['promoted', 'unchanged', 'refused'] as const;
export type PromotionOutcome = (typeof PROMOTION_OUTCOMES)[number];

/** Why a promotion was refused. */
export const PROMOTION_REFUSAL_REASONS = [
  /** The alias no longer points where it pointed when the experiment started running. */
  'alias-moved',
  /** The registry never saw the phase running with `autoPromote`, so it has nothing to compare against. */
  'no-baseline',
  /** The decision names another prompt or alias than the phase started with. */
  'baseline-mismatch',
  /** The winning version is not registered in the project. */
  'version-not-found',
  /** The policy's alias is a name the registry does not let anyone set (e.g. `latest`, all digits). */
  'invalid-alias',
] as const;
export type PromotionRefusalReason = (typeof PROMOTION_REFUSAL_REASONS)[number];

/**
 * One per (project, experiment, phase) with `decision.autoPromote`: the alias as of the time the
 * phase started running (`expectedRev` and `expectedHash`; 0 and null when the alias did not exist),
 * taken from the alias's history when the registry first reads the phase running, written once and
 * never overwritten, and later the outcome of the phase's winner decision, also written once, so a
 * replayed decision finds it and changes nothing.
 */
@Schema({ collection: 'experiment_promotions', versionKey: false })
export class PromotionDocument {
  /** `scopedId(project, experimentKey, phase)`: serves every lookup. */
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) project!: string;
  @Prop({ type: String, required: true }) experimentKey!: string;
  @Prop({ type: Number, required: true }) phase!: number;
  @Prop({ type: String, required: true }) promptName!: string;
  @Prop({ type: String, required: true }) alias!: string;
  /** Absent on a refusal recorded without a baseline (`no-baseline`). */
  @Prop({ type: String }) expectedHash?: string | null;
  /**
   * The alias's rev at the start (0: absent): the compare-and-set's condition. Absent on baselines
   * recorded before it existed, which stand for the alias as of `recordedAt`.
   */
  @Prop({ type: Number }) expectedRev?: number;
  /** When the phase started running (the `changedAt` of the snapshot that shows it running). */
  @Prop({ type: Date }) startedAt?: Date;
  @Prop({ type: Date }) recordedAt?: Date;
  /** The decision event acted on (its id). */
  @Prop({ type: String }) decisionId?: string;
  @Prop({ type: String, enum: PROMOTION_OUTCOMES }) outcome?: PromotionOutcome;
  @Prop({ type: String, enum: PROMOTION_REFUSAL_REASONS }) reason?: PromotionRefusalReason;
  @Prop({ type: String }) winnerHash?: string;
  /** Where the alias pointed when the decision was applied. */
  @Prop({ type: String }) actualHash?: string | null;
  /** The alias's rev when the decision was applied (0: absent). */
  @Prop({ type: Number }) actualRev?: number;
  @Prop({ type: Date }) decidedAt?: Date;
  /** A refusal's audit record was acknowledged by the broker. */
  @Prop({ type: Boolean }) auditPublished?: boolean;
}

export const PromotionSchema = SchemaFactory.createForClass(PromotionDocument);
