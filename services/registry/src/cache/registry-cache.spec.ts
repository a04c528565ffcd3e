import type { PromptVersion } from '../domain/prompt-version';
import { RegistryCache } from './registry-cache';

const version = (n: number): PromptVersion => ({
  name: 'p',
  hash: String(n).padStart(64, '0'),
  shortHash: String(n).padStart(12, '0'),
  version: n,
  spec: { template: `t${n}`, model: 'm' },
  createdAt: '2025-01-01T00:00:00.000Z',
});
const serialize = (v: PromptVersion): string => JSON.stringify({ version: v.version });

describe('RegistryCache', () => {
  it('keeps versions with their serialized body, evicting the oldest beyond the cap', () => {
    const cache = new RegistryCache({ maxVersions: 2, aliasTtlMs: 1000, serialize });
    const e = cache.putVersion(version(1));
    expect(JSON.parse(e.json)).toEqual({ version: 1 });
    cache.putVersion(version(2));
    cache.putVersion(version(3));
    expect(cache.getVersion('p', version(1).hash)).toBeUndefined();
    expect(cache.getHashByNumber('p', 1)).toBeUndefined();
    expect(cache.getHashByNumber('p', 3)).toBe(version(3).hash);
  });

  it('drops a read that raced with an invalidation', () => {
    const cache = new RegistryCache({ maxVersions: 10, aliasTtlMs: 1000, serialize });
    const token = cache.aliasToken('p', 'prod');
    cache.invalidateAlias('p', 'prod'); // an event arrived while the database read was in flight
    cache.putAlias('p', 'prod', 'old', token);
    expect(cache.getAlias('p', 'prod')).toBeUndefined();
    cache.putAlias('p', 'prod', 'new', cache.aliasToken('p', 'prod'));
    expect(cache.getAlias('p', 'prod')).toBe('new');
  });

  it('expires aliases after the TTL and lets own writes replace them', () => {
    let now = 0;
    const cache = new RegistryCache({ maxVersions: 10, aliasTtlMs: 100, now: () => now, serialize });
    cache.setAlias('p', 'prod', 'h1');
    expect(cache.getAlias('p', 'prod')).toBe('h1');
    cache.setAlias('p', 'prod', 'h2');
    expect(cache.getAlias('p', 'prod')).toBe('h2');
    now = 100;
    expect(cache.getAlias('p', 'prod')).toBeUndefined();
  });
});
