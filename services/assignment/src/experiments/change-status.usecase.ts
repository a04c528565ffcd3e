import type { RequestContext } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import type { ExperimentResponse } from './dto/experiment.response';
import { applyTransition, type LifecycleAction } from './experiment-rules';
import { ExperimentWriter } from './experiment-writer';

/** start / pause / stop. Repeating the current status returns the experiment unchanged. */
@Injectable()
export class ChangeStatusUseCase {
  constructor(private readonly writer: ExperimentWriter) {}

  execute(
    key: string,
    action: LifecycleAction,
    ctx: RequestContext,
    now = new Date(),
  ): Promise<ExperimentResponse> {
    return this.writer.mutate(key, ctx, (current) => {
      const t = applyTransition(current, action, now.toISOString());
      return t && { next: t.next, event: { type: 'status-changed', previousStatus: t.previousStatus } };
    });
  }
}
