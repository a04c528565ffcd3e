import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { EventPublisher } from './event-publisher';
import { IngestionMetrics } from './ingestion.metrics';

/** What both ingestion features share: publishing, metrics and the experiments per project. */
@Module({
  imports: [ExperimentsModule],
  providers: [EventPublisher, IngestionMetrics],
  exports: [EventPublisher, IngestionMetrics, ExperimentsModule],
})
export class IngestionModule {}
