import type { ExperimentSnapshot } from '@llmops/contracts';
import type { RequestContext } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import type { CreateExperimentRequest } from './dto/create-experiment.request';
import type { ExperimentResponse } from './dto/experiment.response';
import { checkSnapshot, layerOverlaps, resolvedArms } from './experiment-rules';
import { ExperimentWriter } from './experiment-writer';
import { LayerOverlapError } from './experiments.errors';
import { ExperimentRepository } from './persistence/experiment.repository';
import { PromptResolver } from './prompt-resolver';

/** Creates a draft: resolves every arm's prompt ref to a full hash, checks the layer, stores, publishes. */
@Injectable()
export class CreateExperimentUseCase {
  constructor(
    private readonly resolver: PromptResolver,
    private readonly repository: ExperimentRepository,
    private readonly writer: ExperimentWriter,
  ) {}

  async execute(
    request: CreateExperimentRequest,
    ctx: RequestContext,
    now = new Date(),
  ): Promise<ExperimentResponse> {
    const hashes = await this.resolver.resolve(
      request.arms.map((a) => ({ arm: a.name, prompt: a.prompt })),
      ctx,
    );
    const at = now.toISOString();
    const snapshot: ExperimentSnapshot = {
      key: request.key,
      description: request.description,
      status: 'draft',
      phase: 1,
      seed: request.seed ?? request.key,
      hashVersion: request.hashVersion,
      trafficAllocation: request.trafficAllocation,
      control: request.control ?? request.arms[0].name,
      arms: resolvedArms(request.arms, hashes),
      ...(request.layer ? { layer: request.layer } : {}),
      ...(request.targeting ? { targeting: request.targeting } : {}),
      ...(request.forced ? { forced: request.forced } : {}),
      revision: 1,
      createdAt: at,
      updatedAt: at,
    };
    const checked = checkSnapshot(snapshot);
    if (checked.layer) await assertLayerFree(this.repository, checked.key, checked.layer);
    return this.writer.create(checked, ctx);
  }
}

/**
 * Rejects a layer range that overlaps another live experiment of the same layer. Checked against
 * MongoDB at write time; two concurrent writes to one layer could still race (rare, operator
 * action), which a later write or a look at GET /v1/experiments reveals.
 */
export async function assertLayerFree(
  repository: ExperimentRepository,
  key: string,
  layer: NonNullable<ExperimentSnapshot['layer']>,
): Promise<void> {
  const overlaps = layerOverlaps(key, layer, await repository.findInLayer(layer.name));
  if (overlaps.length > 0) throw new LayerOverlapError(layer.name, layer.range, overlaps);
}
