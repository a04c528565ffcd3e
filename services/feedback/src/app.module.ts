import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@llmops/platform';
import type { FeedbackConfig } from './config/feedback.config';

@Module({})
export class AppModule {
  static forRoot(config: FeedbackConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ config, topics: [] })],
    };
  }
}
