import { Injectable } from '@nestjs/common';
import type { ExperimentResponse } from './dto/experiment.response';
import type { UpdateExperimentRequest } from './dto/update-experiment.request';
import type { ExperimentCaller } from './experiment-caller';
import {
  applyUpdate,
  assertAutoPromoteFits,
  assertMayAutoPromote,
  assertUpdateAllowed,
  changedFields,
  type Arm,
  resolvedArms,
} from './experiment-rules';
import { ExperimentWriter } from './experiment-writer';
import { ExperimentRepository } from './persistence/experiment.repository';
import { PromptResolver } from './prompt-resolver';
import { assertLayerFree } from './create-experiment.usecase';

/**
 * PATCH semantics. A draft may change anything; a running or paused experiment may change its
 * description, targeting, forced users and decision policy and raise trafficAllocation; anything that would move
 * assigned users is a 409 that points to a new phase. A request that changes nothing is a no-op.
 */
@Injectable()
export class UpdateExperimentUseCase {
  constructor(
    private readonly resolver: PromptResolver,
    private readonly repository: ExperimentRepository,
    private readonly writer: ExperimentWriter,
  ) {}

  execute(
    caller: ExperimentCaller,
    key: string,
    request: UpdateExperimentRequest,
    now = new Date(),
  ): Promise<ExperimentResponse> {
    const { principal, ctx } = caller;
    return this.writer.mutate(principal, key, ctx, async (current) => {
      const changes = changedFields(current, request);
      assertUpdateAllowed(current, request, changes);
      if (changes.length === 0) return null;
      assertAutoPromoteFits(
        request.decision === undefined ? current.decision : request.decision,
        request.arms ?? current.arms,
      );
      let arms: Arm[] | undefined;
      if (changes.includes('arms') && request.arms) {
        const hashes = await this.resolver.resolve(
          request.arms.map((a) => ({ arm: a.name, prompt: a.prompt })),
          caller,
        );
        arms = resolvedArms(request.arms, hashes);
      }
      const next = applyUpdate(current, request, arms, now.toISOString());
      assertMayAutoPromote(principal, current, next);
      if (changes.includes('layer') && next.layer)
        await assertLayerFree(this.repository, principal.project, key, next.layer);
      return { next, event: { type: 'updated', changes } };
    });
  }
}
