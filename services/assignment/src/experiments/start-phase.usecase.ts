import { Injectable } from '@nestjs/common';
import type { ExperimentResponse } from './dto/experiment.response';
import type { StartPhaseRequest } from './dto/start-phase.request';
import type { ExperimentCaller } from './experiment-caller';
import {
  applyPhase,
  type Arm,
  assertAutoPromoteFits,
  assertMayAutoPromote,
  assertPhaseAllowed,
  resolvedArms,
} from './experiment-rules';
import { ExperimentWriter } from './experiment-writer';
import { ExperimentRepository } from './persistence/experiment.repository';
import { PromptResolver } from './prompt-resolver';
import { assertLayerFree } from './create-experiment.usecase';

/**
 * Closes the current analysis period of a started experiment: phase + 1 with a new seed, so every
 * user is re-randomised independently of the previous phase, optionally with new arms/weights.
 */
@Injectable()
export class StartPhaseUseCase {
  constructor(
    private readonly resolver: PromptResolver,
    private readonly repository: ExperimentRepository,
    private readonly writer: ExperimentWriter,
  ) {}

  execute(
    caller: ExperimentCaller,
    key: string,
    request: StartPhaseRequest,
    now = new Date(),
  ): Promise<ExperimentResponse> {
    const { principal, ctx } = caller;
    return this.writer.mutate(principal, key, ctx, async (current) => {
      // Validate status and seed before calling the registry.
      assertPhaseAllowed(current, request);
      let arms: Arm[] | undefined;
      if (request.arms) {
        assertAutoPromoteFits(current.decision, request.arms);
        const hashes = await this.resolver.resolve(
          request.arms.map((a) => ({ arm: a.name, prompt: a.prompt })),
          caller,
        );
        arms = resolvedArms(request.arms, hashes);
      }
      const { next, changes } = applyPhase(current, request, arms, now.toISOString());
      assertMayAutoPromote(principal, current, next);
      if (changes.includes('layer') && next.layer)
        await assertLayerFree(this.repository, principal.project, key, next.layer);
      return { next, event: { type: 'updated', changes } };
    });
  }
}
