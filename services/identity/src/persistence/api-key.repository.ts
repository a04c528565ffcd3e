import { ensureIndexes, isDuplicateKey, requestCollection } from '@llmops/platform';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { ApiKeyDocument } from './api-key.schema';

/** A stored key as the service's use cases see it (never the secret, which is not stored). */
export interface ApiKey {
  keyId: string;
  project: string;
  name: string;
  scopes: string[];
  /** Aliases the key may move with prompts:promote; undefined = any. */
  aliases?: string[];
  secretHash: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** False while the revocation's audit event still has to be sent. */
  revokeAudited: boolean;
}

export type NewApiKey = Omit<ApiKey, 'revokedAt' | 'lastUsedAt' | 'revokeAudited'>;

function toApiKey(d: ApiKeyDocument): ApiKey {
  return {
    keyId: d._id,
    project: d.project,
    name: d.name,
    scopes: d.scopes,
    ...(d.aliases ? { aliases: d.aliases } : {}),
    secretHash: d.secretHash,
    createdAt: d.createdAt.toISOString(),
    createdBy: d.createdBy,
    expiresAt: d.expiresAt ? d.expiresAt.toISOString() : null,
    revokedAt: d.revokedAt ? d.revokedAt.toISOString() : null,
    lastUsedAt: d.lastUsedAt ? d.lastUsedAt.toISOString() : null,
    revokeAudited: d.revokeAudited !== false,
  };
}

function toDocument(key: NewApiKey): ApiKeyDocument {
  return {
    _id: key.keyId,
    project: key.project,
    name: key.name,
    scopes: key.scopes,
    ...(key.aliases ? { aliases: key.aliases } : {}),
    secretHash: key.secretHash,
    createdAt: new Date(key.createdAt),
    createdBy: key.createdBy,
    expiresAt: key.expiresAt ? new Date(key.expiresAt) : null,
    revokedAt: null,
    lastUsedAt: null,
  };
}

@Injectable()
export class ApiKeyRepository implements OnModuleInit {
  /** Request paths: every operation has the operation deadline. */
  private readonly keys: mongo.Collection<ApiKeyDocument>;
  /** Background work (boot, the consumer): no request deadline. */
  private readonly background: mongo.Collection<ApiKeyDocument>;

  constructor(@InjectModel(ApiKeyDocument.name) private readonly model: Model<ApiKeyDocument>) {
    this.keys = requestCollection(model);
    this.background = model.db
      .getClient()
      .db(model.db.name)
      .collection<ApiKeyDocument>(model.collection.collectionName);
  }

  onModuleInit(): Promise<void> {
    return ensureIndexes(this.model);
  }

  /** Stores a new key; a key id is 80 random bits, so a collision is an error, not a case to handle. */
  async insert(key: NewApiKey): Promise<ApiKey> {
    const doc = toDocument(key);
    await this.keys.insertOne(doc);
    return toApiKey(doc);
  }

  /**
   * The bootstrap admin key: created, or its project, scopes and hash brought to what the
   * configuration says. A revocation through the API stays (replace the key to re-enable an admin).
   * Only a key the bootstrap itself created (same `createdBy`) is ever updated: configuring the key
   * of an API-issued key fails instead of silently granting that key `platform:admin`.
   */
  async upsertBootstrap(key: NewApiKey): Promise<{ key: ApiKey; created: boolean }> {
    const { _id, createdAt, createdBy, revokedAt, lastUsedAt, ...fields } = toDocument(key);
    const filter = { _id, createdBy };
    const update = {
      $set: fields,
      ...(fields.aliases ? {} : { $unset: { aliases: '' as const } }),
      $setOnInsert: { createdAt, revokedAt, lastUsedAt },
    };
    let created = false;
    try {
      created = (await this.background.updateOne(filter, update, { upsert: true })).upsertedCount > 0;
    } catch (err) {
      // The id exists with another creator, or another replica booting at once inserted it first.
      if (!isDuplicateKey(err)) throw err;
      if ((await this.background.updateOne(filter, update)).matchedCount === 0) {
        throw new Error(
          `LLMOPS_ADMIN_KEY names key ${_id}, which was issued through the API: configure a newly generated key instead`,
        );
      }
    }
    const stored = await this.background.findOne({ _id });
    if (!stored) throw new Error(`bootstrap key ${_id} vanished after its upsert`);
    return { key: toApiKey(stored), created };
  }

  /** The key of `project`, or null (a key of another project is as missing as an unknown one). */
  async find(project: string, keyId: string): Promise<ApiKey | null> {
    const doc = await this.keys.findOne({ _id: keyId, project });
    return doc ? toApiKey(doc) : null;
  }

  /** A page of a project's keys by key id, after `afterKeyId`. */
  async list(project: string, limit: number, afterKeyId?: string): Promise<ApiKey[]> {
    const filter = afterKeyId === undefined ? { project } : { project, _id: { $gt: afterKeyId } };
    const docs = await this.keys.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(toApiKey);
  }

  /**
   * Marks the key revoked with its audit event pending (the first revocation's time stays); the key
   * as stored now, or null when the project has no such key.
   */
  async revoke(project: string, keyId: string, at: Date): Promise<ApiKey | null> {
    await this.keys.updateOne(
      { _id: keyId, project, revokedAt: null },
      { $set: { revokedAt: at, revokeAudited: false } },
    );
    return this.find(project, keyId);
  }

  /** The revocation's audit event is on the audit topic. */
  async markRevokeAudited(keyId: string): Promise<void> {
    await this.keys.updateOne({ _id: keyId }, { $unset: { revokeAudited: '' } });
  }

  /** Every key of a project (deletion republishes them); background work, no request deadline. */
  async allOfProject(project: string): Promise<ApiKey[]> {
    const docs = await this.background.find({ project }).sort({ _id: 1 }).toArray();
    return docs.map(toApiKey);
  }

  /** Every stored key, in pages of `pageSize` (boot: the topic is refilled from the store). */
  all(pageSize = 500): AsyncGenerator<ApiKey[]> {
    return this.pages({}, pageSize);
  }

  /** Every revoked key and every key of `deletedProjects`, in pages (boot, after `all`). */
  dead(deletedProjects: Iterable<string>, pageSize = 500): AsyncGenerator<ApiKey[]> {
    return this.pages(
      { $or: [{ revokedAt: { $ne: null } }, { project: { $in: [...deletedProjects] } }] },
      pageSize,
    );
  }

  private async *pages(where: mongo.Filter<ApiKeyDocument>, pageSize: number): AsyncGenerator<ApiKey[]> {
    let after: string | undefined;
    for (;;) {
      const filter = after === undefined ? where : { $and: [where, { _id: { $gt: after } }] };
      const docs = await this.background.find(filter).sort({ _id: 1 }).limit(pageSize).toArray();
      if (docs.length === 0) return;
      yield docs.map(toApiKey);
      after = docs[docs.length - 1]._id;
    }
  }

  /** Moves the key's last-used time forward to `at` (never back). */
  async touch(keyId: string, at: Date): Promise<void> {
    await this.background.updateOne({ _id: keyId }, { $max: { lastUsedAt: at } });
  }
}
