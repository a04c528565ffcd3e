import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@llmops/platform';
import type { Db } from 'mongodb';
import { ANALYTICS_DB, ANALYTICS_REQUEST_DB, AggregationModule } from '../aggregation/aggregation.module';
import { AggregationRepository } from '../aggregation/persistence/aggregation.repository';
import { ExperimentsRepository } from '../aggregation/persistence/experiments.repository';
import type { AnalyticsConfig } from '../config/analytics.config';
import { MetricsRefresher } from '../metrics/metrics-refresher';
import { GetResultsUseCase } from './get-results.usecase';
import { ListUnattributedUseCase } from './list-unattributed.usecase';
import { ResultsController } from './results.controller';
import { BACKGROUND_RESULTS, BACKGROUND_UNATTRIBUTED } from './results-tokens';

function resultsOptions(c: AnalyticsConfig) {
  return { minimumPerArm: c.ANALYTICS_MIN_PER_ARM, recommendedPerArm: c.ANALYTICS_RECOMMENDED_PER_ARM };
}

/** Read-only repositories over `db` (no index creation, no writes) behind the results use case. */
function resultsUseCase(db: Db, c: AnalyticsConfig): GetResultsUseCase {
  return new GetResultsUseCase(
    new AggregationRepository(db),
    new ExperimentsRepository(db),
    resultsOptions(c),
  );
}

@Module({
  imports: [AggregationModule],
  controllers: [ResultsController],
  providers: [
    // The controller's use cases read through the request-path database (with a deadline) ...
    {
      provide: GetResultsUseCase,
      inject: [ANALYTICS_REQUEST_DB, SERVICE_CONFIG],
      useFactory: (db: Db, c: AnalyticsConfig) => resultsUseCase(db, c),
    },
    {
      provide: ListUnattributedUseCase,
      inject: [ANALYTICS_REQUEST_DB],
      useFactory: (db: Db) => new ListUnattributedUseCase(db),
    },
    // ... the metrics refresher's through the background one, whose reads may take longer.
    {
      provide: BACKGROUND_RESULTS,
      inject: [AggregationRepository, ExperimentsRepository, SERVICE_CONFIG],
      useFactory: (a: AggregationRepository, e: ExperimentsRepository, c: AnalyticsConfig) =>
        new GetResultsUseCase(a, e, resultsOptions(c)),
    },
    {
      provide: BACKGROUND_UNATTRIBUTED,
      inject: [ANALYTICS_DB],
      useFactory: (db: Db) => new ListUnattributedUseCase(db),
    },
    MetricsRefresher,
  ],
})
export class ResultsModule {}
