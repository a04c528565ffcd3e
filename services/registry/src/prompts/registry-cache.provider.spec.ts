import type { FactoryProvider } from '@nestjs/common';
import { loadRegistryConfig } from '../config/registry.config';
import type { RegistryCache } from '../cache/registry-cache';
import { registryCacheProvider } from './registry-cache.provider';

describe('registryCacheProvider', () => {
  it('caches the GET body of a version', () => {
    const { useFactory } = registryCacheProvider as FactoryProvider<RegistryCache>;
    const cache = useFactory(loadRegistryConfig({})) as RegistryCache;
    const entry = cache.putVersion({
      project: 'default',
      name: 'p',
      hash: '1'.padStart(64, '0'),
      shortHash: '1'.padStart(12, '0'),
      version: 1,
      spec: { template: 't1', model: 'm' },
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    expect(JSON.parse(entry.json)).toMatchObject({ version: 1, variables: [] });
  });
});
