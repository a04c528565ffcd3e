import { Module } from '@nestjs/common';
import { EventPublisher } from './event-publisher';
import { IngestionMetrics } from './ingestion.metrics';
import { RouteBodyLimits } from './route-body-limits';

/** What both ingestion features share: publishing, metrics and per-route body limits. */
@Module({
  providers: [EventPublisher, IngestionMetrics, RouteBodyLimits],
  exports: [EventPublisher, IngestionMetrics],
})
export class IngestionModule {}
