import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@llmops/platform';
import type { AssignmentConfig } from './config/assignment.config';

@Module({})
export class AppModule {
  static forRoot(config: AssignmentConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ config, topics: [] })],
    };
  }
}
