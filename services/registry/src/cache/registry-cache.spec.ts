import type { PromptVersion } from '../domain/prompt-version';
import { RegistryCache } from './registry-cache';

const version = (n: number, project = 'default'): PromptVersion => ({
  project,
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
    expect(cache.getVersion('default', 'p', version(1).hash)).toBeUndefined();
    expect(cache.getHashByNumber('default', 'p', 1)).toBeUndefined();
    expect(cache.getHashByNumber('default', 'p', 3)).toBe(version(3).hash);
  });

  it('drops a read that raced with an invalidation', () => {
    const cache = new RegistryCache({ maxVersions: 10, aliasTtlMs: 1000, serialize });
    const token = cache.aliasToken('default', 'p', 'prod');
    cache.invalidateAlias('default', 'p', 'prod'); // an event arrived while the database read was in flight
    cache.putAlias('default', 'p', 'prod', 'old', token);
    expect(cache.getAlias('default', 'p', 'prod')).toBeUndefined();
    cache.putAlias('default', 'p', 'prod', 'new', cache.aliasToken('default', 'p', 'prod'));
    expect(cache.getAlias('default', 'p', 'prod')).toBe('new');
  });

  it('expires aliases after the TTL and lets own writes replace them', () => {
    let now = 0;
    const cache = new RegistryCache({ maxVersions: 10, aliasTtlMs: 100, now: () => now, serialize });
    cache.setAlias('default', 'p', 'prod', 'h1');
    expect(cache.getAlias('default', 'p', 'prod')).toBe('h1');
    cache.setAlias('default', 'p', 'prod', 'h2');
    expect(cache.getAlias('default', 'p', 'prod')).toBe('h2');
    now = 100;
    expect(cache.getAlias('default', 'p', 'prod')).toBeUndefined();
  });

  it('keeps the projects apart: the same name, alias and version number in two projects', () => {
    const cache = new RegistryCache({ maxVersions: 10, aliasTtlMs: 1000, serialize });
    cache.putVersion(version(1, 'team-a'));
    expect(cache.getVersion('team-b', 'p', version(1).hash)).toBeUndefined();
    expect(cache.getHashByNumber('team-b', 'p', 1)).toBeUndefined();
    expect(cache.getVersion('team-a', 'p', version(1).hash)?.version.project).toBe('team-a');
    cache.setAlias('team-a', 'p', 'prod', 'h1');
    cache.setAlias('team-b', 'p', 'prod', 'h2');
    cache.invalidateAlias('team-a', 'p', 'prod');
    expect(cache.getAlias('team-a', 'p', 'prod')).toBeUndefined();
    expect(cache.getAlias('team-b', 'p', 'prod')).toBe('h2');
  });
});
