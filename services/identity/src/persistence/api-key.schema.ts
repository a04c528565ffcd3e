import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * An API key. Only the peppered HMAC of its secret is stored (`secretHash`); the plain key exists
 * in the creation response alone. Revocation only marks the key, so its record (and audit) stays.
 */
@Schema({ collection: 'api_keys', versionKey: false })
export class ApiKeyDocument {
  /** The public key id (20 lowercase hex). */
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) project!: string;
  @Prop({ type: String, required: true }) name!: string;
  @Prop({ type: [String], required: true }) scopes!: string[];
  /** Aliases the key may move with prompts:promote; absent = any. */
  @Prop({ type: [String], default: undefined }) aliases?: string[];
  @Prop({ type: String, required: true }) secretHash!: string;
  @Prop({ type: Date, required: true }) createdAt!: Date;
  /** Key id that created it, or `system:identity` for the bootstrap admin key. */
  @Prop({ type: String, required: true }) createdBy!: string;
  @Prop({ type: Date, default: null }) expiresAt!: Date | null;
  @Prop({ type: Date, default: null }) revokedAt!: Date | null;
  /**
   * false while the revocation's audit event is not on the audit topic yet (the next revocation
   * call sends it); absent once it is, and on keys revoked before this field existed.
   */
  @Prop({ type: Boolean, default: undefined }) revokeAudited?: boolean;
  /** Coarse: written by the identity service for requests it serves itself (see the README). */
  @Prop({ type: Date, default: null }) lastUsedAt!: Date | null;
}

export const ApiKeySchema = SchemaFactory.createForClass(ApiKeyDocument);
// A project's keys, listed by key id (GET /v1/projects/:project/keys) and republished on deletion.
ApiKeySchema.index({ project: 1, _id: 1 }, { name: 'project_keyId' });
