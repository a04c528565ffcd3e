import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * A project (tenant). Deleting one only marks it: its id stays taken, so a later project of the same
 * id can never inherit the deleted one's keys, audit trail or data in the other services.
 */
@Schema({ collection: 'projects', versionKey: false })
export class ProjectDocument {
  /** The project id (PROJECT_ID_PATTERN); the unique `_id` makes creation race-free. */
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) name!: string;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  /** Key id that created it, or `system:identity` for the bootstrap `default` project. */
  @Prop({ type: String, required: true }) createdBy!: string;
  @Prop({ type: Date, default: null }) deletedAt!: Date | null;
  /**
   * false while the creation's (deletion's) audit event is not on the audit topic yet: the next
   * call that finds the project created (deleted) sends it. Absent = recorded.
   */
  @Prop({ type: Boolean, default: undefined }) createAudited?: boolean;
  @Prop({ type: Boolean, default: undefined }) deleteAudited?: boolean;
}

export const ProjectSchema = SchemaFactory.createForClass(ProjectDocument);
