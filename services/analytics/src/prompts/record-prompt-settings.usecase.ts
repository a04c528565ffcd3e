import { Injectable } from '@nestjs/common';
import type { PromptVersionRegisteredData } from '@llmops/contracts';
import { promptSettings } from '../domain/prompt-settings';
import {
  PromptSettingsRepository,
  type PromptVersionSettings,
} from '../persistence/prompt-settings.repository';

/** Keeps the settings of registered prompt versions (see PromptSettingsRepository). */
@Injectable()
export class RecordPromptSettingsUseCase {
  constructor(private readonly repository: PromptSettingsRepository) {}

  /** Versions whose spec names no model are skipped: they have no settings to export. */
  async execute(versions: Array<{ project: string; data: PromptVersionRegisteredData }>): Promise<void> {
    const known: PromptVersionSettings[] = [];
    for (const { project, data } of versions) {
      const settings = promptSettings(data.spec);
      if (settings)
        known.push({ project, hash: data.hash, name: data.name, settings, registeredAt: data.createdAt });
    }
    await this.repository.record(known);
  }
}
