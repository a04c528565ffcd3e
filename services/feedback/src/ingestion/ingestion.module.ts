import { Module } from '@nestjs/common';
import { EventPublisher } from './event-publisher';
import { IngestionMetrics } from './ingestion.metrics';
import { ParserErrorHandler } from './parser-error-handler';
import { RouteBodyLimits } from './route-body-limits';

/** What both ingestion features share: publishing, metrics, per-route body limits, parser errors. */
@Module({
  providers: [EventPublisher, IngestionMetrics, RouteBodyLimits, ParserErrorHandler],
  exports: [EventPublisher, IngestionMetrics],
})
export class IngestionModule {}
