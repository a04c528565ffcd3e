import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { AggregationConsumer } from './aggregation.consumer';
import { ApplyBatchUseCase } from './apply-batch.usecase';
import { ParkedRetentionScheduler } from './parked-retention.scheduler';

@Module({
  imports: [PersistenceModule, MetricsModule],
  providers: [ApplyBatchUseCase, ParkedRetentionScheduler],
  controllers: [AggregationConsumer],
})
export class AggregationModule {}
