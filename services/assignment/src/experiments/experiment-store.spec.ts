import { DEFAULT_PROJECT } from '@llmops/contracts';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ExperimentStore } from './experiment-store';
import { HASH_C, snapshot } from '@llmops/testing';

describe('ExperimentStore', () => {
  const newStore = () => new ExperimentStore(new Registry(), pino({ level: 'silent' }));

  it("holds experiments per project: a key is found only in its own project's experiments", () => {
    const store = newStore();
    store.apply('team-a', snapshot({ key: 'exp' }), 'topic');
    expect(store.get('team-a', 'exp')?.project).toBe('team-a');
    expect(store.get('team-b', 'exp')).toBeUndefined();
    expect(store.get(DEFAULT_PROJECT, 'exp')).toBeUndefined();
  });

  it("keeps two projects' experiments of one key apart, each at its own highest revision", () => {
    const store = newStore();
    const b = snapshot({ key: 'exp', control: 'B', revision: 1 });
    b.arms[1] = { ...b.arms[1], prompt: { ...b.arms[1].prompt, hash: HASH_C } };
    expect(store.apply('team-a', snapshot({ key: 'exp', revision: 3 }), 'topic')).toBe('applied');
    expect(store.apply('team-b', b, 'topic')).toBe('applied');
    // A lower revision of team-a's experiment is stale there, whatever team-b's revision is.
    expect(store.apply('team-a', snapshot({ key: 'exp', revision: 2 }), 'topic')).toBe('stale');
    expect(store.get('team-a', 'exp')?.revision).toBe(3);
    expect(store.get('team-b', 'exp')?.revision).toBe(1);
    expect(store.get('team-b', 'exp')?.snapshot.arms[1].prompt.hash).toBe(HASH_C);
    expect(store.get('team-a', 'exp')?.snapshot.control).toBe('A');
  });
});
