import { METRICS_REGISTRY } from '@llmops/platform';
import { Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { CacheInvalidationConsumer } from '../cache/cache-invalidation.consumer';
import { RegistryCache } from '../cache/registry-cache';
import { registryCacheProvider } from './registry-cache.provider';
import { BrokerProbe } from '../outbox/broker-probe';
import { OutboxPublisher } from '../outbox/outbox.publisher';
import { AliasesController } from './aliases.controller';
import { DiffVersionsUseCase } from './diff-versions.usecase';
import { MoveAliasUseCase } from './move-alias.usecase';
import { PersistenceModule } from '../persistence/persistence.module';
import { PromptsController } from './prompts.controller';
import { ReadAliasesUseCase } from './read-aliases.usecase';
import { ReadPromptsUseCase } from './read-prompts.usecase';
import { RegisterVersionUseCase } from './register-version.usecase';
import { REGISTRY_METRICS, registryMetrics } from '../metrics/registry.metrics';
import { RenderPromptUseCase } from './render-prompt.usecase';
import { ResolveVersionUseCase } from './resolve-version.usecase';

@Module({
  imports: [PersistenceModule],
  controllers: [PromptsController, AliasesController, CacheInvalidationConsumer],
  providers: [
    {
      provide: REGISTRY_METRICS,
      inject: [METRICS_REGISTRY],
      useFactory: (r: Registry) => registryMetrics(r),
    },
    registryCacheProvider,
    BrokerProbe,
    OutboxPublisher,
    ResolveVersionUseCase,
    RegisterVersionUseCase,
    MoveAliasUseCase,
    ReadAliasesUseCase,
    ReadPromptsUseCase,
    RenderPromptUseCase,
    DiffVersionsUseCase,
  ],
  // Tests reach the publisher and the cache through app.get(); promotion moves aliases with them.
  exports: [OutboxPublisher, RegistryCache, ResolveVersionUseCase, REGISTRY_METRICS],
})
export class PromptsModule {}
