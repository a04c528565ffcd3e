import { Module } from '@nestjs/common';
import { LOGGER, METRICS_REGISTRY, MONGO_CONNECTION, requestDb, SERVICE_CONFIG } from '@llmops/platform';
import type { Db } from 'mongodb';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AnalyticsConfig } from '../config/analytics.config';
import { AnalyticsMetrics } from '../metrics/analytics-metrics';
import { AggregationConsumer } from './aggregation.consumer';
import { ApplyBatchUseCase } from './apply-batch.usecase';
import { AggregationRepository } from './persistence/aggregation.repository';
import { ExperimentsRepository } from './persistence/experiments.repository';

export const ANALYTICS_DB = Symbol('ANALYTICS_DB');
/**
 * The same database for HTTP request paths: every operation has the platform's deadline
 * (MONGODB_OPERATION_TIMEOUT_MS), so a frozen database answers 503 instead of holding the request.
 * The consumer and the metrics refresher keep ANALYTICS_DB (background work, no deadline).
 */
export const ANALYTICS_REQUEST_DB = Symbol('ANALYTICS_REQUEST_DB');

@Module({
  providers: [
    {
      provide: ANALYTICS_DB,
      inject: [MONGO_CONNECTION],
      useFactory: (connection: Connection): Db => connection.db as unknown as Db,
    },
    {
      provide: ANALYTICS_REQUEST_DB,
      inject: [MONGO_CONNECTION],
      useFactory: (connection: Connection): Db => requestDb(connection) as unknown as Db,
    },
    {
      provide: AggregationRepository,
      inject: [ANALYTICS_DB, SERVICE_CONFIG],
      useFactory: async (db: Db, config: AnalyticsConfig) => {
        const repo = new AggregationRepository(db, {
          bucketGcIntervalMs: config.ANALYTICS_BUCKET_GC_INTERVAL_MS,
        });
        await repo.ensureIndexes();
        return repo;
      },
    },
    {
      provide: ExperimentsRepository,
      inject: [ANALYTICS_DB],
      useFactory: (db: Db) => new ExperimentsRepository(db),
    },
    {
      provide: AnalyticsMetrics,
      inject: [METRICS_REGISTRY],
      useFactory: (r: Registry) => new AnalyticsMetrics(r),
    },
    {
      provide: ApplyBatchUseCase,
      inject: [AggregationRepository, ExperimentsRepository, AnalyticsMetrics, LOGGER],
      useFactory: (a: AggregationRepository, e: ExperimentsRepository, m: AnalyticsMetrics, l: Logger) =>
        new ApplyBatchUseCase(a, e, m, l),
    },
  ],
  controllers: [AggregationConsumer],
  exports: [
    ANALYTICS_DB,
    ANALYTICS_REQUEST_DB,
    AggregationRepository,
    ExperimentsRepository,
    AnalyticsMetrics,
    ApplyBatchUseCase,
  ],
})
export class AggregationModule {}
