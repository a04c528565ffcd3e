import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AliasMoveRepository } from './alias-move.repository';
import { PromptSummaryRepository } from './prompt-summary.repository';
import { PromptVersionRepository } from './prompt-version.repository';

/** Indexes exist before the first request: the unique ones are what make writes race-safe. */
@Injectable()
export class EnsureIndexes implements OnModuleInit {
  constructor(
    private readonly versions: PromptVersionRepository,
    private readonly moves: AliasMoveRepository,
    private readonly summaries: PromptSummaryRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    await Promise.all([
      this.versions.ensureIndexes(),
      this.moves.ensureIndexes(),
      this.summaries.ensureIndexes(),
    ]);
  }
}
