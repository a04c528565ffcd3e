import { SERVICE_CONFIG } from '@llmops/platform';
import type { Provider } from '@nestjs/common';
import type { RegistryConfig } from '../config/registry.config';
import { RegistryCache } from '../cache/registry-cache';
import { toVersionResponse } from './dto/version.response';

export const registryCacheProvider: Provider = {
  provide: RegistryCache,
  inject: [SERVICE_CONFIG],
  useFactory: (config: RegistryConfig) =>
    new RegistryCache({
      maxVersions: config.REGISTRY_VERSION_CACHE_MAX,
      aliasTtlMs: config.REGISTRY_ALIAS_CACHE_TTL_MS,
      serialize: (version) => JSON.stringify(toVersionResponse(version)),
    }),
};
