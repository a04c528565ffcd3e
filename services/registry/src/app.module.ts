import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceAppOptions } from '@llmops/platform';
import { cacheInvalidationConsumer } from './cache/cache-invalidation.consumer';
import type { RegistryConfig } from './config/registry.config';
import { registryTopicSpecs } from './outbox/registry-topics';
import { promotionConsumer } from './promotion/promotion.consumer';
import { PromotionModule } from './promotion/promotion.module';
import { PromptsModule } from './prompts/prompts.module';

/** Options for createServiceApp (main.ts and in-process tests use the same). */
export function registryAppOptions(config: RegistryConfig): ServiceAppOptions {
  return {
    title: 'LLMOps prompt registry',
    description:
      'Content-addressed prompt versions (hash = SHA-256 of the RFC 8785 canonical spec), aliases with compare-and-set, rendering and diffs.',
    // Room for metadata around the largest spec; the spec itself is checked exactly (spec_too_large).
    bodyLimit: config.REGISTRY_MAX_SPEC_BYTES + 64 * 1024,
    consumer: cacheInvalidationConsumer(config),
    consumers: [promotionConsumer(config)].filter((c) => c !== undefined),
  };
}

@Module({})
export class AppModule {
  static forRoot(config: RegistryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ config, topics: registryTopicSpecs(config) }),
        PromptsModule,
        PromotionModule,
      ],
    };
  }
}
