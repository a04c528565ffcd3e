import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/*
 * Read models for `GET /v1/prompts` (FerretDB cannot $group with $max/$first, so the newest
 * version and the alias targets per name are kept as documents). They are derived data: the request
 * path updates them best-effort and the outbox publisher re-applies every event before marking it
 * published, so a crash between the two writes only delays them. Updates are guarded by
 * version/rev, so re-applying or applying out of order never moves them backwards.
 */

/** A prompt name with its newest version. */
@Schema({ collection: 'prompts', versionKey: false })
export class PromptDocument {
  /** `scopedId(project, name)` (list pages are ranges on _id within a project). */
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) project!: string;
  @Prop({ type: Number, required: true }) latestVersion!: number;
  @Prop({ type: String, required: true }) latestHash!: string;
  @Prop({ type: Date, required: true }) latestCreatedAt!: Date;
}

export const PromptSchema = SchemaFactory.createForClass(PromptDocument);
// A page of GET /v1/prompts: { project, _id: { $gt: after } } sorted by _id.
PromptSchema.index({ project: 1, _id: 1 }, { name: 'project_id' });

/** The current target of one alias. */
@Schema({ collection: 'prompt_aliases', versionKey: false })
export class PromptAliasDocument {
  /** `scopedId(project, name, alias)` */
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) project!: string;
  @Prop({ type: String, required: true }) name!: string;
  @Prop({ type: String, required: true }) alias!: string;
  @Prop({ type: String, required: true }) hash!: string;
  @Prop({ type: Number, required: true }) version!: number;
  @Prop({ type: Number, required: true }) rev!: number;
  @Prop({ type: Date, required: true }) movedAt!: Date;
}

export const PromptAliasSchema = SchemaFactory.createForClass(PromptAliasDocument);
// Aliases of the names on one page of GET /v1/prompts: { project, name: { $in: [...] } }.
PromptAliasSchema.index({ project: 1, name: 1 }, { name: 'project_name' });
/** The index of the alias read model before projects, dropped at boot. */
export const OBSOLETE_PROMPT_ALIAS_INDEXES = ['name'] as const;
