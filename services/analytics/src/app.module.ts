import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@llmops/platform';
import { analyticsTopicSpecs } from './aggregation/aggregation.consumer';
import { AggregationModule } from './aggregation/aggregation.module';
import type { AnalyticsConfig } from './config/analytics.config';
import { DecisionsModule } from './decisions/decisions.module';
import { MetricsModule } from './metrics/metrics.module';
import { MlflowModule } from './mlflow/mlflow.module';
import { PromptsModule } from './prompts/prompts.module';
import { ResultsModule } from './results/results.module';

@Module({})
export class AppModule {
  static forRoot(config: AnalyticsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          config,
          topics: analyticsTopicSpecs(config.KAFKA_TOPIC_PREFIX, config.KAFKA_TOPIC_PARTITIONS),
        }),
        AggregationModule,
        ResultsModule,
        MetricsModule,
        MlflowModule,
        DecisionsModule,
        PromptsModule,
      ],
    };
  }
}
