import type { ExperimentSnapshot } from '@llmops/contracts';
import { Injectable } from '@nestjs/common';
import { AliasMoveRepository } from '../persistence/alias-move.repository';
import { PromotionRepository } from '../persistence/promotion.repository';

/**
 * Remembers, for an experiment phase with `decision.autoPromote`, where the alias pointed when the
 * phase started running: the `expected` of the later compare-and-set promotion. The start is the
 * `changedAt` of the first snapshot the registry reads with the phase running, and the alias is
 * read from its history as of that time, so a move made after the start but before the registry
 * read the snapshot (consumer lag, the consumer turned off, a first deploy reading the topic from
 * the beginning) is a move since the start, not the baseline. Insert-if-absent, so re-reading the
 * experiments topic (a replay, a later snapshot of the same phase) never moves the baseline.
 */
@Injectable()
export class RecordBaselineUseCase {
  constructor(
    private readonly moves: AliasMoveRepository,
    private readonly promotions: PromotionRepository,
  ) {}

  async execute(project: string, experiment: ExperimentSnapshot, changedAt: string): Promise<void> {
    const alias = experiment.decision?.autoPromote?.alias;
    if (experiment.status !== 'running' || alias === undefined) return;
    // The assignment service accepts autoPromote only when every arm serves the same prompt name.
    const promptName = experiment.arms[0].prompt.name;
    const { key: experimentKey, phase } = experiment;
    if (await this.promotions.find(project, experimentKey, phase)) return;
    const startedAt = new Date(changedAt);
    const atStart = await this.moves.asOf(project, promptName, alias, startedAt);
    await this.promotions.recordBaseline({
      project,
      experimentKey,
      phase,
      promptName,
      alias,
      expectedHash: atStart?.to ?? null,
      expectedRev: atStart?.rev ?? 0,
      startedAt,
    });
  }
}
