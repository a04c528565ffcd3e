import { TOPICS } from '@llmops/contracts';
import type { ConsumedMessage, KafkaBatchHandlerResult } from '@llmops/platform';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { StoreAuditRecordsUseCase } from './store-audit-records.usecase';

/** Thin Kafka edge of the audit store (options: auditConsumer in audit-topics.ts). */
@Controller()
export class AuditConsumer {
  constructor(private readonly store: StoreAuditRecordsUseCase) {}

  @EventPattern(TOPICS.audit)
  async audit(@Payload() messages: ConsumedMessage[]): Promise<KafkaBatchHandlerResult> {
    return { rejected: await this.store.execute(messages) };
  }
}
