import { Global, Module } from '@nestjs/common';
import { DatasetsMetrics } from './datasets-metrics';

@Global()
@Module({ providers: [DatasetsMetrics], exports: [DatasetsMetrics] })
export class MetricsModule {}
