import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@llmops/platform';
import type { AnalyticsConfig } from './config/analytics.config';

@Module({})
export class AppModule {
  static forRoot(config: AnalyticsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ config, topics: [] })],
    };
  }
}
