import type { ExperimentSnapshot } from '@llmops/contracts';
import type { AuditActor, RequestContext } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import type { ExperimentResponse } from './dto/experiment.response';
import { applyTransition, type LifecycleAction } from './experiment-rules';
import { ExperimentWriter } from './experiment-writer';

/**
 * start / pause / stop, by a caller or by a decision (its actor names it in the audit event).
 * Repeating the current status returns the experiment unchanged, and so does a change whose
 * `precondition` the current experiment does not meet (checked on the state the write replaces).
 */
@Injectable()
export class ChangeStatusUseCase {
  constructor(private readonly writer: ExperimentWriter) {}

  execute(
    caller: { principal: AuditActor; ctx: RequestContext },
    key: string,
    action: LifecycleAction,
    now = new Date(),
    precondition?: (current: ExperimentSnapshot) => boolean,
  ): Promise<ExperimentResponse> {
    return this.writer.mutate(caller.principal, key, caller.ctx, (current) => {
      if (precondition && !precondition(current)) return null;
      const t = applyTransition(current, action, now.toISOString());
      return t && { next: t.next, event: { type: 'status-changed', previousStatus: t.previousStatus } };
    });
  }
}
