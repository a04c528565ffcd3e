import type { ExperimentSnapshot } from '@llmops/contracts';
import { Injectable } from '@nestjs/common';
import type { CreateExperimentRequest } from './dto/create-experiment.request';
import type { ExperimentResponse } from './dto/experiment.response';
import type { ExperimentCaller } from './experiment-caller';
import { assertMayAutoPromote, checkSnapshot, layerOverlaps, resolvedArms } from './experiment-rules';
import { ExperimentWriter } from './experiment-writer';
import { LayerOverlapError } from './experiments.errors';
import { ExperimentRepository } from './persistence/experiment.repository';
import { PromptResolver } from './prompt-resolver';

/**
 * Creates a draft in the caller's project: resolves every arm's prompt ref to a full hash (in that
 * project), checks the layer (the project's), stores, publishes.
 */
@Injectable()
export class CreateExperimentUseCase {
  constructor(
    private readonly resolver: PromptResolver,
    private readonly repository: ExperimentRepository,
    private readonly writer: ExperimentWriter,
  ) {}

  async execute(
    caller: ExperimentCaller,
    request: CreateExperimentRequest,
    now = new Date(),
  ): Promise<ExperimentResponse> {
    const hashes = await this.resolver.resolve(
      request.arms.map((a) => ({ arm: a.name, prompt: a.prompt })),
      caller,
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
      ...(request.decision ? { decision: request.decision } : {}),
      revision: 1,
      createdAt: at,
      updatedAt: at,
    };
    const checked = checkSnapshot(snapshot);
    assertMayAutoPromote(caller.principal, undefined, checked);
    const { project } = caller.principal;
    if (checked.layer) await assertLayerFree(this.repository, project, checked.key, checked.layer);
    return this.writer.create(caller.principal, checked, caller.ctx);
  }
}

/**
 * Rejects a layer range that overlaps another live experiment of the same layer in the project
 * (layers are per project: another project's experiments never share its users). Checked against
 * MongoDB at write time; two concurrent writes to one layer could still race (rare, operator
 * action), which a later write or a look at GET /v1/experiments reveals.
 */
export async function assertLayerFree(
  repository: ExperimentRepository,
  project: string,
  key: string,
  layer: NonNullable<ExperimentSnapshot['layer']>,
): Promise<void> {
  const overlaps = layerOverlaps(key, layer, await repository.findInLayer(project, layer.name));
  if (overlaps.length > 0) throw new LayerOverlapError(layer.name, layer.range, overlaps);
}
