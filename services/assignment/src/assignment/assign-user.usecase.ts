/**
 * Assignment: in-memory only (no MongoDB, no registry), among the experiments of the caller's
 * project (another project's experiment key is unknown here). Users in the experiment produce an
 * exposure event; the caller gets the answer only after the broker acknowledged it (through the
 * micro-batching producer), so an answered assignment is never missing from the analysis. If the
 * broker cannot acknowledge, the producer rejects with KafkaUnavailableError: 503 + Retry-After.
 */
import { TOPICS, topicName } from '@llmops/contracts';
import type { Assignment, CompiledExperiment } from '@llmops/experiments';
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
import type { AssignRequest } from './dto/assign.request';
import type { AssignBatchResponse, AssignResponse } from './dto/assign.response';
import { ExposureMessages, isExposed } from './exposure-event';

@Injectable()
export class AssignUserUseCase {
  private readonly topic: string;

  constructor(
    private readonly store: ExperimentStore,
    private readonly producer: BatchingProducer,
    private readonly exposures: ExposureMessages,
    @Inject(SERVICE_CONFIG) config: AssignmentConfig,
  ) {
    this.topic = topicName(TOPICS.exposures, config.KAFKA_TOPIC_PREFIX);
  }

  /** The pure part, without exposure: what `userId` gets. Throws ExperimentNotFoundError. */
  decide(
    project: string,
    request: AssignRequest,
  ): { experiment: CompiledExperiment; assignment: Assignment } {
    const experiment = this.store.get(project, request.experiment);
    if (!experiment) throw new ExperimentNotFoundError(request.experiment);
    return { experiment, assignment: experiment.assign(request.userId, request.attributes) };
  }

  /** The exposure carries `ctx` (the request's correlation id and traceparent) in its headers. */
  async assign(project: string, request: AssignRequest, ctx: RequestContext): Promise<AssignResponse> {
    const { experiment, assignment } = this.decide(project, request);
    if (isExposed(assignment)) {
      await this.producer.send(this.topic, [
        this.exposures.message(experiment, assignment, request.userId, contextHeaders(ctx), Date.now()),
      ]);
    }
    return assignment.response;
  }

  /** Per-item results in order; all exposures of the batch go out in one producer call. */
  async assignBatch(
    project: string,
    items: readonly AssignRequest[],
    ctx: RequestContext,
  ): Promise<AssignBatchResponse> {
    const headers = contextHeaders(ctx);
    const now = Date.now();
    const exposures: OutgoingMessage[] = [];
    const results: AssignBatchResponse['items'] = items.map((item) => {
      const experiment = this.store.get(project, item.experiment);
      if (!experiment) {
        const err = new ExperimentNotFoundError(item.experiment);
        return {
          experiment: item.experiment,
          userId: item.userId,
          error: { code: err.code, message: err.message },
        };
      }
      const assignment = experiment.assign(item.userId, item.attributes);
      if (isExposed(assignment))
        exposures.push(this.exposures.message(experiment, assignment, item.userId, headers, now));
      return assignment.response;
    });
    if (exposures.length > 0) await this.producer.send(this.topic, exposures);
    return { items: results };
  }
}
