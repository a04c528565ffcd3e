import { Injectable } from '@nestjs/common';
import type { ExperimentResponse } from './dto/experiment.response';
import type { ExperimentCaller } from './experiment-caller';
import { applyTransition, type LifecycleAction } from './experiment-rules';
import { ExperimentWriter } from './experiment-writer';

/** start / pause / stop. Repeating the current status returns the experiment unchanged. */
@Injectable()
export class ChangeStatusUseCase {
  constructor(private readonly writer: ExperimentWriter) {}

  execute(
    caller: ExperimentCaller,
    key: string,
    action: LifecycleAction,
    now = new Date(),
  ): Promise<ExperimentResponse> {
    return this.writer.mutate(caller.principal, key, caller.ctx, (current) => {
      const t = applyTransition(current, action, now.toISOString());
      return t && { next: t.next, event: { type: 'status-changed', previousStatus: t.previousStatus } };
    });
  }
}
