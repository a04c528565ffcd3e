import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@llmops/platform';
import type { Db } from 'mongodb';
import { ANALYTICS_DB, AggregationModule } from '../aggregation/aggregation.module';
import { AggregationRepository } from '../aggregation/persistence/aggregation.repository';
import { ExperimentsRepository } from '../aggregation/persistence/experiments.repository';
import type { AnalyticsConfig } from '../config/analytics.config';
import { MetricsRefresher } from '../metrics/metrics-refresher';
import { GetResultsUseCase } from './get-results.usecase';
import { ListUnattributedUseCase } from './list-unattributed.usecase';
import { ResultsController } from './results.controller';

@Module({
  imports: [AggregationModule],
  controllers: [ResultsController],
  providers: [
    {
      provide: GetResultsUseCase,
      inject: [AggregationRepository, ExperimentsRepository, SERVICE_CONFIG],
      useFactory: (a: AggregationRepository, e: ExperimentsRepository, c: AnalyticsConfig) =>
        new GetResultsUseCase(a, e, {
          minimumPerArm: c.ANALYTICS_MIN_PER_ARM,
          recommendedPerArm: c.ANALYTICS_RECOMMENDED_PER_ARM,
        }),
    },
    {
      provide: ListUnattributedUseCase,
      inject: [ANALYTICS_DB],
      useFactory: (db: Db) => new ListUnattributedUseCase(db),
    },
    MetricsRefresher,
  ],
})
export class ResultsModule {}
