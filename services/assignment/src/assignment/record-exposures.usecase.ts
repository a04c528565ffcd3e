/**
 * Client-side exposures: an SDK assigned locally and reports whom it exposed. Each item is checked
 * against this replica's own assignment of the user (the same CompiledExperiment as POST
 * /v1/assign); only items the server would have answered identically become exposures, and those
 * are the very record a server-side assignment produces (same type, key `${experiment}:${userId}`,
 * reason hash|forced), so analytics counts a user once however the assignment was made. Answers
 * after the broker acknowledged the accepted ones (503 broker_unavailable otherwise: none is).
 */
import { TOPICS, topicName } from '@llmops/contracts';
import {
  BatchingProducer,
  contextHeaders,
  type OutgoingMessage,
  type RequestContext,
  SERVICE_CONFIG,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { AssignmentConfig } from '../config/assignment.config';
import { ExperimentStore } from '../experiments/experiment-store';
import { ExperimentNotFoundError } from './assignment.errors';
import type { ClientExposure } from './dto/record-exposures.request';
import type { ExposureResult, RecordExposuresResponse } from './dto/record-exposures.response';
import { ExposureMessages, isExposed } from './exposure-event';

/** How far back an SDK may date an exposure (it buffers through outages), and ahead (clock skew). */
export const MAX_EXPOSURE_AGE_MS = 24 * 60 * 60 * 1_000;
export const MAX_EXPOSURE_SKEW_MS = 5 * 60 * 1_000;

const rejected = (code: string, message: string): ExposureResult => ({
  status: 'rejected',
  error: { code, message },
});

@Injectable()
export class RecordExposuresUseCase {
  private readonly topic: string;

  constructor(
    private readonly store: ExperimentStore,
    private readonly producer: BatchingProducer,
    private readonly exposures: ExposureMessages,
    @Inject(SERVICE_CONFIG) config: AssignmentConfig,
  ) {
    this.topic = topicName(TOPICS.exposures, config.KAFKA_TOPIC_PREFIX);
  }

  async execute(
    project: string,
    items: readonly ClientExposure[],
    ctx: RequestContext,
  ): Promise<RecordExposuresResponse> {
    const headers = contextHeaders(ctx);
    const now = Date.now();
    const messages: OutgoingMessage[] = [];
    const results = items.map((item): ExposureResult => {
      const experiment = this.store.get(project, item.experiment);
      if (!experiment) {
        const err = new ExperimentNotFoundError(item.experiment);
        return rejected(err.code, err.message);
      }
      const assignment = experiment.assign(item.userId, item.attributes);
      const served = assignment.response;
      if (!isExposed(assignment))
        return rejected(
          'not_in_experiment',
          `User "${item.userId}" is not in experiment "${item.experiment}" (reason ${served.reason}); ` +
            'only in-experiment assignments are exposures.',
        );
      if (served.arm !== item.arm || served.phase !== item.phase)
        return rejected(
          'exposure_mismatch',
          `The server assigns arm "${served.arm}" in phase ${served.phase}, not arm "${item.arm}" in phase ` +
            `${item.phase}: refresh the experiment snapshots.`,
        );
      const at = item.assignedAt === undefined ? now : Date.parse(item.assignedAt);
      if (at < now - MAX_EXPOSURE_AGE_MS || at > now + MAX_EXPOSURE_SKEW_MS)
        return rejected(
          'assigned_at_out_of_range',
          'assignedAt must be within the last 24 hours and at most 5 minutes ahead of the server clock.',
        );
      messages.push(this.exposures.message(experiment, assignment, item.userId, headers, at));
      return { status: 'accepted' };
    });
    if (messages.length > 0) await this.producer.send(this.topic, messages);
    return { items: results };
  }
}
