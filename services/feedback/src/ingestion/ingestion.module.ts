import { Module } from '@nestjs/common';
import { EventPublisher } from './event-publisher';
import { IngestionMetrics } from './ingestion.metrics';

/** What both ingestion features share: publishing and metrics. */
@Module({
  providers: [EventPublisher, IngestionMetrics],
  exports: [EventPublisher, IngestionMetrics],
})
export class IngestionModule {}
