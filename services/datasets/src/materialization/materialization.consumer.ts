/**
 * Thin Kafka edge: one consumer group over generations, feedback and prompt aliases, one handler
 * call per partition batch (the platform's KafkaBatchServer: commit after success, transient
 * failures retried, poison dead-lettered with its reason, a stall probe behind readiness).
 */
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS } from '@llmops/contracts';
import type { ConsumedMessage } from '@llmops/platform';
import { MaterializeBatchUseCase } from './materialize-batch.usecase';

@Controller()
export class MaterializationConsumer {
  constructor(private readonly materialize: MaterializeBatchUseCase) {}

  @EventPattern(TOPICS.generations)
  generations(@Payload() messages: ConsumedMessage[]) {
    return this.materialize.execute('generations', messages);
  }

  @EventPattern(TOPICS.feedback)
  feedback(@Payload() messages: ConsumedMessage[]) {
    return this.materialize.execute('feedback', messages);
  }

  @EventPattern(TOPICS.promptAliases)
  aliases(@Payload() messages: ConsumedMessage[]) {
    return this.materialize.execute('aliases', messages);
  }
}
