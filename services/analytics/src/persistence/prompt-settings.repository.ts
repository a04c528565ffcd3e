/**
 * Prompt versions' settings per (project, hash), for the MLflow export. Written from the registry's
 * version events with insert-if-absent upserts: a hash names one spec, so a replayed or duplicated
 * event changes nothing.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKey } from '@llmops/platform';
import { type Model, Schema } from 'mongoose';
import type { PromptSettings } from '../domain/prompt-settings';
import { collectionFor, type ReadPath } from './read-path';

/**
 * A prompt version's settings (model, sampling params, other non-text spec fields), from the
 * registry's version events. `_id` is `<project>/<hash>`: a hash is one spec, so a stored document
 * never changes. The settings are kept as JSON text: sampling params are arbitrary JSON, whose keys
 * (`$`-prefixed, dotted) MongoDB-wire servers do not all store as field names.
 */
export interface PromptSettingsDoc {
  _id: string;
  project: string;
  hash: string;
  /** The prompt name the version was first registered under. */
  name: string;
  model: string;
  /** JSON of `{ params, other }` (see PromptSettings). */
  settings: string;
  registeredAt: string;
}

export const PromptSettingsSchema = new Schema<PromptSettingsDoc>(
  {
    _id: String,
    project: String,
    hash: String,
    name: String,
    model: String,
    settings: String,
    registeredAt: String,
  },
  { versionKey: false, collection: 'prompt_settings' },
);
// Read by _id only (the MLflow export: the prompt versions of one experiment's arms).

export const PROMPT_SETTINGS = 'PromptSettings';

export interface PromptVersionSettings {
  project: string;
  hash: string;
  name: string;
  settings: PromptSettings;
  registeredAt: string;
}

const settingsId = (project: string, hash: string): string => `${project}/${hash}`;

@Injectable()
export class PromptSettingsRepository {
  constructor(@InjectModel(PROMPT_SETTINGS) private readonly settings: Model<PromptSettingsDoc>) {}

  /** Stores the versions not stored yet; stored ones are left as they are. */
  async record(versions: PromptVersionSettings[]): Promise<void> {
    if (versions.length === 0) return;
    try {
      await collectionFor(this.settings, 'background').bulkWrite(
        versions.map((v) => {
          const { params, other } = v.settings;
          const doc: PromptSettingsDoc = {
            _id: settingsId(v.project, v.hash),
            project: v.project,
            hash: v.hash,
            name: v.name,
            model: v.settings.model,
            settings: JSON.stringify({ params, other }),
            registeredAt: v.registeredAt,
          };
          const { _id, ...fields } = doc;
          return { updateOne: { filter: { _id }, update: { $setOnInsert: fields }, upsert: true } };
        }),
        { ordered: false },
      );
    } catch (err) {
      // Two writers upserting one new id: the loser's insert fails, and the document is there.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** The settings of the versions among `hashes` that are stored, by hash. */
  async find(project: string, hashes: string[], path: ReadPath): Promise<Map<string, PromptSettings>> {
    const ids = [...new Set(hashes)].map((h) => settingsId(project, h));
    const docs = await collectionFor(this.settings, path)
      .find({ _id: { $in: ids } })
      .toArray();
    return new Map(
      docs.map((d) => {
        const { params, other } = JSON.parse(d.settings) as Pick<PromptSettings, 'params' | 'other'>;
        return [d.hash, { model: d.model, params, other }];
      }),
    );
  }
}
