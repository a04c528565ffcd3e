import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceAppOptions } from '@llmops/platform';
import type { DatasetsConfig } from './config/datasets.config';
import { DatasetsModule } from './datasets/datasets.module';
import { ExportModule } from './export/export.module';
import { datasetsTopicSpecs, materializationConsumer } from './materialization/materialization-topics';
import { MaterializationModule } from './materialization/materialization.module';
import { MetricsModule } from './metrics/metrics.module';
import { PersistenceModule } from './persistence/persistence.module';

/** Options for createServiceApp (main.ts and in-process tests use the same). */
export function datasetsAppOptions(config: DatasetsConfig): ServiceAppOptions {
  return {
    title: 'LLMOps datasets service',
    description:
      'Examples materialized from generations and feedback; named datasets, immutable snapshots and JSONL exports for fine-tuning and evaluation.',
    consumer: materializationConsumer(config),
  };
}

@Module({})
export class AppModule {
  static forRoot(config: DatasetsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ config, topics: datasetsTopicSpecs(config) }),
        PersistenceModule,
        MetricsModule,
        MaterializationModule,
        DatasetsModule,
        ExportModule,
      ],
    };
  }
}
