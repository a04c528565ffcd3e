import type { ExperimentSnapshot } from '@llmops/contracts';
import { Injectable } from '@nestjs/common';
import { AliasMoveRepository } from '../persistence/alias-move.repository';
import { PromotionRepository } from '../persistence/promotion.repository';

/**
 * Remembers, for an experiment phase with `decision.autoPromote`, where the alias pointed when the
 * registry first saw the phase running: the `expected` of the later compare-and-set promotion.
 * Insert-if-absent, so re-reading the experiments topic (a replay, a later snapshot of the same
 * phase) never moves the baseline.
 */
@Injectable()
export class RecordBaselineUseCase {
  constructor(
    private readonly moves: AliasMoveRepository,
    private readonly promotions: PromotionRepository,
  ) {}

  async execute(project: string, experiment: ExperimentSnapshot): Promise<void> {
    const alias = experiment.decision?.autoPromote?.alias;
    if (experiment.status !== 'running' || alias === undefined) return;
    // The assignment service accepts autoPromote only when every arm serves the same prompt name.
    const promptName = experiment.arms[0].prompt.name;
    const { key: experimentKey, phase } = experiment;
    if (await this.promotions.find(project, experimentKey, phase)) return;
    const current = await this.moves.current(project, promptName, alias);
    await this.promotions.recordBaseline({
      project,
      experimentKey,
      phase,
      promptName,
      alias,
      expectedHash: current?.to ?? null,
    });
  }
}
