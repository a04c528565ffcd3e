import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { exampleId } from '../domain/example';
import { PROMPT_ALIAS, type PromptAliasDoc } from './datasets.schemas';

/** The `_id` of an alias of a prompt in a project (prompt and alias names never hold `/`). */
export function promptAliasId(project: string, name: string, alias: string): string {
  return `${exampleId(project, name)}/${alias}`;
}

/** Where each alias of each prompt points now, as last seen on the prompt-aliases topic. */
@Injectable()
export class AliasRepository {
  /**
   * No operation deadline: the consumer's writes (a failed batch is retried by the consumer) and the
   * snapshot builds' reads (a build is a long operation anyway).
   */
  private readonly background: mongo.Collection<PromptAliasDoc>;

  constructor(@InjectModel(PROMPT_ALIAS) model: Model<PromptAliasDoc>) {
    this.background = model.collection as unknown as mongo.Collection<PromptAliasDoc>;
  }

  /** The prompt hash `alias` of prompt `name` of `project` points at, or null when unknown. */
  async resolve(project: string, name: string, alias: string): Promise<string | null> {
    const doc = await this.background.findOne(
      { _id: promptAliasId(project, name, alias) },
      { projection: { hash: 1 } },
    );
    return doc?.hash ?? null;
  }

  /**
   * Blind upserts, one per alias: callers pass at most one move per alias (the last of their batch),
   * since an unordered bulk write does not promise to apply its operations in order.
   */
  async move(aliases: Omit<PromptAliasDoc, '_id'>[]): Promise<void> {
    if (aliases.length === 0) return;
    await this.background.bulkWrite(
      aliases.map((a) => ({
        updateOne: {
          filter: { _id: promptAliasId(a.project, a.name, a.alias) },
          update: { $set: a },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }
}
