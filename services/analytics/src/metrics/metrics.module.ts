import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { ResultsModule } from '../results/results.module';
import { AnalyticsMetrics } from './analytics-metrics';
import { MetricsRefresher } from './metrics-refresher';

@Module({
  imports: [PersistenceModule, ResultsModule],
  providers: [AnalyticsMetrics, MetricsRefresher],
  exports: [AnalyticsMetrics],
})
export class MetricsModule {}
