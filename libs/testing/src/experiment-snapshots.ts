import type { ExperimentSnapshot } from '@llmops/contracts';

export const HASH_A = 'a'.repeat(64);
export const HASH_B = 'b'.repeat(64);
export const HASH_C = 'c'.repeat(64);

/** A valid experiment snapshot for unit tests (arms A/B by default). */
export function snapshot(overrides: Partial<ExperimentSnapshot> = {}): ExperimentSnapshot {
  return {
    key: 'exp',
    description: '',
    status: 'running',
    phase: 1,
    seed: 'exp',
    hashVersion: 1,
    trafficAllocation: 1,
    control: 'A',
    arms: [
      { name: 'A', weight: 0.5, prompt: { name: 'p', ref: '1', hash: HASH_A } },
      { name: 'B', weight: 0.5, prompt: { name: 'p', ref: '2', hash: HASH_B } },
    ],
    revision: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function threeArms(weights: [number, number, number]): ExperimentSnapshot['arms'] {
  return [
    { name: 'control', weight: weights[0], prompt: { name: 'p', ref: '1', hash: HASH_A } },
    { name: 'short', weight: weights[1], prompt: { name: 'p', ref: '2', hash: HASH_B } },
    { name: 'long', weight: weights[2], prompt: { name: 'p', ref: '3', hash: HASH_C } },
  ];
}
