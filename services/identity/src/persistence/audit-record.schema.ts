import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

export interface AuditDetail {
  name: string;
  value: string | number | boolean | null;
}

/** One stored `io.llmops.audit.recorded.v1` event; `_id` is the event id, so a redelivery stores nothing new. */
@Schema({ collection: 'audit_records', versionKey: false })
export class AuditRecordDocument {
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) project!: string;
  /** When the change happened (the event's `time`). */
  @Prop({ type: Date, required: true }) time!: Date;
  @Prop({ type: String, required: true }) actor!: string;
  @Prop({ type: String, required: true }) action!: string;
  @Prop({ type: String, required: true }) resource!: string;
  /** The producing service (the event's `source`). */
  @Prop({ type: String, required: true }) source!: string;
  /**
   * The event's details as name/value pairs: detail names are free text (a `.` or a leading `$`
   * included), which MongoDB and FerretDB do not all accept as field names.
   */
  @Prop({ type: [Object], default: undefined }) details?: AuditDetail[];
  @Prop({ type: String, default: undefined }) note?: string;
  @Prop({ type: String, default: undefined }) correlationId?: string;
}

export const AuditRecordSchema = SchemaFactory.createForClass(AuditRecordDocument);
// GET /v1/audit?project=&since=: a project's trail, newest first, paged by (time, _id).
AuditRecordSchema.index({ project: 1, time: -1, _id: -1 }, { name: 'project_time' });
// GET /v1/audit?project=&actor=&since=: one actor's changes in a project, newest first.
AuditRecordSchema.index({ project: 1, actor: 1, time: -1, _id: -1 }, { name: 'project_actor_time' });
