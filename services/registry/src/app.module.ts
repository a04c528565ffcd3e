import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@llmops/platform';
import type { RegistryConfig } from './config/registry.config';

@Module({})
export class AppModule {
  static forRoot(config: RegistryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ config, topics: [] })],
    };
  }
}
