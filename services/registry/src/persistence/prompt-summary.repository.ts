import { MONGO_CONNECTION } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Connection, mongo } from 'mongoose';
import type { AliasMove, PromptVersion } from '../domain/prompt-version';
import { isDuplicateKeyError } from './mongo-errors';
import { db, ensureIndexes } from './mongo-indexes';
import {
  PROMPT_ALIAS_INDEXES,
  PROMPT_ALIASES_COLLECTION,
  PROMPTS_COLLECTION,
  type PromptAliasDocument,
  type PromptDocument,
} from './prompt-summary.schema';

export interface PromptSummary {
  name: string;
  latest: { version: number; hash: string; createdAt: string };
  aliases: Record<string, { hash: string; version: number; movedAt: string }>;
}

@Injectable()
export class PromptSummaryRepository {
  constructor(@Inject(MONGO_CONNECTION) private readonly connection: Connection) {}

  private get prompts(): mongo.Collection<PromptDocument> {
    return db(this.connection).collection<PromptDocument>(PROMPTS_COLLECTION);
  }

  private get aliases(): mongo.Collection<PromptAliasDocument> {
    return db(this.connection).collection<PromptAliasDocument>(PROMPT_ALIASES_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.aliases, PROMPT_ALIAS_INDEXES);
  }

  /** Idempotent; never moves `latest` back to an older version. */
  async applyVersion(v: Pick<PromptVersion, 'name' | 'version' | 'hash' | 'createdAt'>): Promise<void> {
    try {
      await this.prompts.updateOne(
        { _id: v.name, latestVersion: { $lt: v.version } },
        { $set: { latestVersion: v.version, latestHash: v.hash, latestCreatedAt: new Date(v.createdAt) } },
        { upsert: true },
      );
    } catch (err) {
      // The upsert collided with a document that already holds this or a newer version.
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  /** Idempotent; never moves an alias back to an older rev. */
  async applyAliasMove(
    m: Pick<AliasMove, 'name' | 'alias' | 'rev' | 'to' | 'toVersion' | 'movedAt'>,
  ): Promise<void> {
    try {
      await this.aliases.updateOne(
        { _id: `${m.name}/${m.alias}`, rev: { $lt: m.rev } },
        {
          $set: {
            name: m.name,
            alias: m.alias,
            rev: m.rev,
            hash: m.to,
            version: m.toVersion,
            movedAt: new Date(m.movedAt),
          },
        },
        { upsert: true },
      );
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  /** Names in ascending order after `after`. */
  async list(limit: number, after?: string): Promise<PromptSummary[]> {
    const docs = await this.prompts
      .find(after === undefined ? {} : { _id: { $gt: after } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    if (docs.length === 0) return [];
    const aliasDocs = await this.aliases.find({ name: { $in: docs.map((d) => d._id) } }).toArray();
    const byName = new Map<string, PromptSummary['aliases']>();
    for (const a of aliasDocs) {
      const entry = byName.get(a.name) ?? {};
      entry[a.alias] = { hash: a.hash, version: a.version, movedAt: a.movedAt.toISOString() };
      byName.set(a.name, entry);
    }
    return docs.map((d) => ({
      name: d._id,
      latest: { version: d.latestVersion, hash: d.latestHash, createdAt: d.latestCreatedAt.toISOString() },
      aliases: byName.get(d._id) ?? {},
    }));
  }
}
