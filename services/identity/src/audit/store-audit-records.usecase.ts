import { EVENT_TYPES, HEADER_CORRELATION_ID, safeParseEvent } from '@llmops/contracts';
import type { ConsumedMessage, RejectedMessage } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { type AuditRecord, AuditRecordRepository } from '../persistence/audit-record.repository';

/** Turns one partition batch of the audit topic into stored records; anything else is dead-lettered. */
@Injectable()
export class StoreAuditRecordsUseCase {
  constructor(private readonly records: AuditRecordRepository) {}

  async execute(messages: readonly ConsumedMessage[]): Promise<RejectedMessage[]> {
    const rejected: RejectedMessage[] = [];
    const records: AuditRecord[] = [];
    for (const message of messages) {
      const parsed = safeParseEvent(message.value ?? '', { tolerateUnknownFields: true });
      if (!parsed.ok) {
        rejected.push({ message, error: parsed.error.message });
      } else if (parsed.event.type !== EVENT_TYPES.auditRecorded) {
        rejected.push({ message, error: `unexpected event type ${parsed.event.type} on the audit topic` });
      } else {
        const { id, time, source, data } = parsed.event;
        const correlationId = message.headers[HEADER_CORRELATION_ID]?.toString();
        records.push({
          id,
          time,
          source,
          project: data.project,
          actor: data.actor,
          action: data.action,
          resource: data.resource,
          ...(data.details ? { details: data.details } : {}),
          ...(data.note !== undefined ? { note: data.note } : {}),
          ...(correlationId ? { correlationId } : {}),
        });
      }
    }
    await this.records.store(records);
    return rejected;
  }
}
