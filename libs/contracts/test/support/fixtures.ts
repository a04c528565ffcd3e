// Valid sample data for every event type; used by the specs (not exported from the package entry).
import type { EventDataInputMap } from '../../src/catalog';
import { EVENT_TYPES, type EventType } from '../../src/event-types';

const HASH_A = 'a'.repeat(64);
const HASH_B = '0123456789abcdef'.repeat(4);
const T0 = '2025-03-01T10:00:00.000Z';
const T1 = '2025-03-01T10:00:01.250+01:00';

const snapshot = {
  key: 'checkout-copy.v2',
  description: 'Tone of the checkout assistant',
  status: 'running' as const,
  phase: 2,
  seed: 'checkout-copy.v2:s1',
  hashVersion: 1,
  trafficAllocation: 0.5,
  control: 'control',
  arms: [
    { name: 'control', weight: 1, prompt: { name: 'checkout', ref: 'production', hash: HASH_A } },
    { name: 'friendly', weight: 1, prompt: { name: 'checkout', ref: '7', hash: HASH_B } },
  ],
  layer: { name: 'checkout', range: [0, 0.5] as [number, number] },
  targeting: [
    { attribute: 'country', op: 'in' as const, values: ['DE', 'FR'] },
    { attribute: 'beta', op: 'equals' as const, value: true },
  ],
  forced: { 'qa-user-1': 'friendly' },
  revision: 3,
  createdAt: T0,
  updatedAt: T1,
};

export const VALID_DATA: { [T in EventType]: EventDataInputMap[T] } = {
  [EVENT_TYPES.promptVersionRegistered]: {
    name: 'checkout',
    hash: HASH_A,
    shortHash: HASH_A.slice(0, 12),
    version: 7,
    spec: {
      model: 'gpt-x',
      temperature: 0.2,
      messages: [{ role: 'system', content: 'Be brief.' }],
      stop: null,
    },
    metadata: { author: 'ana', tags: ['checkout'] },
    createdAt: T0,
  },
  [EVENT_TYPES.promptAliasMoved]: {
    name: 'checkout',
    alias: 'production',
    from: null,
    to: HASH_A,
    toVersion: 7,
    actor: 'ana',
    movedAt: T0,
  },
  [EVENT_TYPES.experimentCreated]: {
    experiment: { ...snapshot, revision: 1, status: 'draft' },
    changedAt: T0,
    actor: 'ana',
  },
  [EVENT_TYPES.experimentUpdated]: {
    experiment: snapshot,
    changedAt: T1,
    changes: ['arms', 'trafficAllocation'],
  },
  [EVENT_TYPES.experimentStatusChanged]: {
    experiment: { ...snapshot, status: 'paused', revision: 4 },
    changedAt: T1,
    actor: 'bob',
    previousStatus: 'running',
  },
  [EVENT_TYPES.exposure]: {
    experiment: 'checkout-copy.v2',
    phase: 2,
    arm: 'friendly',
    userId: 'user-42',
    prompt: { name: 'checkout', hash: HASH_B },
    hashVersion: 1,
    reason: 'hash',
    assignedAt: T0,
  },
  [EVENT_TYPES.generationLogged]: {
    requestId: 'req-1',
    experiment: 'checkout-copy.v2',
    arm: 'friendly',
    userId: 'user-42',
    prompt: { name: 'checkout', hash: HASH_B },
    model: 'gpt-x',
    input: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Where is my order?' },
    ],
    output: 'On its way.',
    latencyMs: 812.5,
    usage: { promptTokens: 20, completionTokens: 5 },
    costUsd: 0.00012,
    metadata: { region: 'eu', retries: 0 },
    timestamp: T0,
    receivedAt: T1,
  },
  [EVENT_TYPES.feedbackSubmitted]: {
    feedbackId: 'fb-1',
    requestId: 'req-1',
    experiment: 'checkout-copy.v2',
    arm: 'friendly',
    userId: 'user-42',
    rating: 4,
    ratingScale: { min: 1, max: 5 },
    thumbs: 'up',
    comment: 'helpful',
    scores: { relevance: 0.9, 'tone.friendly': 1 },
    source: 'user',
    latencyMs: 30_000,
    timestamp: T0,
    receivedAt: T1,
    revision: 1,
    edit: null,
  },
  [EVENT_TYPES.apiKeyUpdated]: {
    keyId: '0123456789abcdef0123',
    project: 'checkout-team',
    name: 'release pipeline',
    scopes: ['prompts:read', 'prompts:promote'],
    aliases: ['staging', 'production'],
    secretHash: 'qYh2Vb8Q0fS1nK9xWm3Lr5Tc7Ue4Gd6Ia0Jp2Ov8Zs_',
    createdAt: T0,
    expiresAt: null,
    revokedAt: null,
    projectDeleted: false,
  },
  [EVENT_TYPES.auditRecorded]: {
    project: 'checkout-team',
    actor: '0123456789abcdef0123',
    action: 'alias.moved',
    resource: 'checkout/production',
    details: { from: HASH_A.slice(0, 12), to: HASH_B.slice(0, 12), toVersion: 7 },
    note: 'ana: release 2025-03',
  },
};
