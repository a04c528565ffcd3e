import { ensureIndexes, isDuplicateKey, requestCollection } from '@llmops/platform';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { scopedId, unscopedPart } from '../domain/project-scope';
import type { AliasMove, PromptVersion } from '../domain/prompt-version';
import { adoptIntoDefaultProject } from './project-migration';
import { OBSOLETE_PROMPT_ALIAS_INDEXES, PromptAliasDocument, PromptDocument } from './prompt-summary.schema';

export interface PromptSummary {
  name: string;
  latest: { version: number; hash: string; createdAt: string };
  aliases: Record<string, { hash: string; version: number; movedAt: string }>;
}

@Injectable()
export class PromptSummaryRepository implements OnModuleInit {
  /** Request paths: every operation has the operation deadline. */
  private readonly prompts: mongo.Collection<PromptDocument>;
  private readonly aliases: mongo.Collection<PromptAliasDocument>;

  constructor(
    @InjectModel(PromptDocument.name) private readonly promptModel: Model<PromptDocument>,
    @InjectModel(PromptAliasDocument.name) private readonly aliasModel: Model<PromptAliasDocument>,
  ) {
    this.prompts = requestCollection(promptModel);
    this.aliases = requestCollection(aliasModel);
  }

  async onModuleInit(): Promise<void> {
    await adoptIntoDefaultProject(this.promptModel.collection, []);
    await adoptIntoDefaultProject(this.aliasModel.collection, OBSOLETE_PROMPT_ALIAS_INDEXES);
    await ensureIndexes(this.promptModel);
    await ensureIndexes(this.aliasModel);
  }

  /** Idempotent; never moves `latest` back to an older version. */
  async applyVersion(
    v: Pick<PromptVersion, 'project' | 'name' | 'version' | 'hash' | 'createdAt'>,
  ): Promise<void> {
    try {
      await this.prompts.updateOne(
        { _id: scopedId(v.project, v.name), latestVersion: { $lt: v.version } },
        {
          $set: {
            project: v.project,
            latestVersion: v.version,
            latestHash: v.hash,
            latestCreatedAt: new Date(v.createdAt),
          },
        },
        { upsert: true },
      );
    } catch (err) {
      // The upsert collided with a document that already holds this or a newer version.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** Idempotent; never moves an alias back to an older rev. */
  async applyAliasMove(
    m: Pick<AliasMove, 'project' | 'name' | 'alias' | 'rev' | 'to' | 'toVersion' | 'movedAt'>,
  ): Promise<void> {
    try {
      await this.aliases.updateOne(
        { _id: scopedId(m.project, m.name, m.alias), rev: { $lt: m.rev } },
        {
          $set: {
            project: m.project,
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
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** The project's names in ascending order after `after`. */
  async list(project: string, limit: number, after?: string): Promise<PromptSummary[]> {
    // Within one project every _id has the same prefix, so _id order is name order.
    const docs = await this.prompts
      .find(after === undefined ? { project } : { project, _id: { $gt: scopedId(project, after) } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    if (docs.length === 0) return [];
    const names = docs.map((d) => unscopedPart(project, d._id));
    const aliasDocs = await this.aliases.find({ project, name: { $in: names } }).toArray();
    const byName = new Map<string, PromptSummary['aliases']>();
    for (const a of aliasDocs) {
      const entry = byName.get(a.name) ?? {};
      entry[a.alias] = { hash: a.hash, version: a.version, movedAt: a.movedAt.toISOString() };
      byName.set(a.name, entry);
    }
    return docs.map((d, i) => ({
      name: names[i],
      latest: { version: d.latestVersion, hash: d.latestHash, createdAt: d.latestCreatedAt.toISOString() },
      aliases: byName.get(names[i]) ?? {},
    }));
  }
}
