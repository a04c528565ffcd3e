import { snapshot } from '@llmops/testing';
import pino from 'pino';
import { Registry } from 'prom-client';
import { loadAssignmentConfig } from '../config/assignment.config';
import { ExperimentStore } from '../experiments/experiment-store';
import { matchesEtag, ReadSnapshotsUseCase } from './read-snapshots.usecase';
import { TooManyWaitersError } from './snapshots.errors';

describe('ReadSnapshotsUseCase', () => {
  function setup(maxWaiters = 10) {
    const registry = new Registry();
    const store = new ExperimentStore(registry, pino({ level: 'silent' }));
    const config = loadAssignmentConfig({ SNAPSHOTS_MAX_WAITERS: String(maxWaiters) });
    return { store, read: new ReadSnapshotsUseCase(store, config, registry) };
  }

  it('serves each project its own experiments; the version follows (key, revision) only', async () => {
    const a = setup();
    const b = setup();
    a.store.apply('p', snapshot({ key: 'x', revision: 1 }), 'topic');
    a.store.apply('p', snapshot({ key: 'y', revision: 2 }), 'topic');
    b.store.apply('p', snapshot({ key: 'y', revision: 2 }), 'topic');
    b.store.apply('p', snapshot({ key: 'x', revision: 1 }), 'topic');
    b.store.apply('q', snapshot({ key: 'z' }), 'topic');
    const ra = await a.read.read('p', undefined);
    const rb = await b.read.read('p', undefined);
    expect(ra.view.version).toBe(rb.view.version);
    expect(ra.view.etag).toBe(`"${ra.view.version}"`);
    expect(JSON.parse(ra.view.body)).toMatchObject({
      project: 'p',
      version: ra.view.version,
      experiments: [{ key: 'x' }, { key: 'y' }],
    });
    a.store.apply('p', snapshot({ key: 'x', revision: 2 }), 'topic');
    expect((await a.read.read('p', ra.view.etag)).changed).toBe(true);
    expect((await b.read.read('p', rb.view.etag)).changed).toBe(false);
  });

  it('matches If-None-Match like HTTP: weak tags, lists and *', () => {
    expect(matchesEtag('"v1"', '"v1"')).toBe(true);
    expect(matchesEtag('W/"v1"', '"v1"')).toBe(true);
    expect(matchesEtag('"v0", "v1"', '"v1"')).toBe(true);
    expect(matchesEtag('*', '"v1"')).toBe(true);
    expect(matchesEtag('"v2"', '"v1"')).toBe(false);
    expect(matchesEtag(undefined, '"v1"')).toBe(false);
  });

  it('holds a long poll until its project changes, not another project', async () => {
    const { store, read } = setup();
    store.apply('p', snapshot({ key: 'x' }), 'topic');
    const { view } = await read.read('p', undefined);
    let settled = false;
    const poll = read.read('p', view.etag, 10_000).finally(() => (settled = true));
    store.apply('q', snapshot({ key: 'x' }), 'topic');
    await Promise.resolve();
    expect(settled).toBe(false);
    store.apply('p', snapshot({ key: 'x', revision: 2 }), 'topic');
    const result = await poll;
    expect(result.changed).toBe(true);
    expect(result.view.version).not.toBe(view.version);
  });

  it('bounds the long polls it holds, and frees a place when the client leaves or the app shuts down', async () => {
    const { read } = setup(1);
    const { view } = await read.read('p', undefined);
    const left = new AbortController();
    const first = read.read('p', view.etag, 10_000, left.signal);
    await expect(read.read('p', view.etag, 10_000)).rejects.toBeInstanceOf(TooManyWaitersError);
    expect((await read.read('p', view.etag)).changed).toBe(false); // a plain read is never limited
    left.abort();
    expect((await first).changed).toBe(false);
    const second = read.read('p', view.etag, 10_000);
    read.onModuleDestroy();
    expect((await second).changed).toBe(false);
    // Once closing, a long poll answers at once.
    expect((await read.read('p', view.etag, 10_000)).changed).toBe(false);
  });
});
