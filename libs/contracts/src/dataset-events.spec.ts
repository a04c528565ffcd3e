import {
  createEvent,
  DATASET_FORMATS,
  DATASET_NAME_PATTERN,
  datasetTopicKey,
  EVENT_CATALOG,
  EVENT_SOURCES,
  EVENT_TYPES,
  EXPORT_FORMATS,
  isScope,
  parseEvent,
  partitionKeyFor,
  safeParseEvent,
  serializeEvent,
  SPLIT_NAME_PATTERN,
  topicForEventType,
  TOPIC_SPECS,
  TOPICS,
} from './index';
import { VALID_DATA } from '../test/support/fixtures';

const type = EVENT_TYPES.datasetSnapshotCreated;
const source = EVENT_SOURCES.datasets;
const SNAPSHOT = VALID_DATA[type];

function issuesOf(data: object): string[] {
  const envelope = JSON.parse(
    serializeEvent(createEvent(type, SNAPSHOT, { source, project: 'checkout-team' })),
  ) as Record<string, unknown>;
  const result = safeParseEvent(JSON.stringify({ ...envelope, data }));
  return result.ok ? [] : [...new Set(result.error.issues.map((i) => i.path))].sort();
}

describe('io.llmops.dataset.snapshot.created.v1', () => {
  it('is published by the datasets service on the dataset-snapshots topic (retention delete)', () => {
    expect(type).toBe('io.llmops.dataset.snapshot.created.v1');
    expect(TOPICS.datasetSnapshots).toBe('llmops.dataset-snapshots.v1');
    expect(topicForEventType(type)).toBe(TOPICS.datasetSnapshots);
    expect(TOPIC_SPECS.find((t) => t.name === TOPICS.datasetSnapshots)).toMatchObject({
      compacted: false,
      partitions: 6,
      producer: 'datasets',
    });
    expect(EVENT_CATALOG[type]).toMatchObject({ producer: 'datasets', source: '/llmops/datasets' });
    for (const topic of [TOPICS.generations, TOPICS.feedback, TOPICS.apiKeys]) {
      expect(TOPIC_SPECS.find((t) => t.name === topic)?.consumers).toContain('datasets');
    }
  });

  it('is keyed by the dataset name in project default, <project>/<name> in any other', () => {
    expect(datasetTopicKey('default', 'support-sft')).toBe('support-sft');
    expect(datasetTopicKey('checkout-team', 'support-sft')).toBe('checkout-team/support-sft');
    const { data } = createEvent(type, SNAPSHOT, { source, project: 'checkout-team' });
    expect(partitionKeyFor(type, data)).toBe('support-sft');
    expect(partitionKeyFor(type, data, 'default')).toBe('support-sft');
    expect(partitionKeyFor(type, data, 'checkout-team')).toBe('checkout-team/support-sft');
  });

  it('round-trips every format, an empty snapshot and a definition of any JSON', () => {
    for (const format of DATASET_FORMATS) {
      const data = { ...SNAPSHOT, format, definition: { format, limit: 10, nested: [null, { a: 1.5 }] } };
      const event = createEvent(type, data, { source, project: 'checkout-team' });
      expect(parseEvent(serializeEvent(event)).data).toEqual(data);
    }
    expect(issuesOf({ ...SNAPSHOT, records: 0, splits: {} })).toEqual([]);
    expect(issuesOf({ ...SNAPSHOT, records: 0, splits: { train: 0, validation: 0 } })).toEqual([]);
  });

  it('rejects a malformed name, id, sequence, format, split or definition, and missing fields', () => {
    expect(
      issuesOf({
        ...SNAPSHOT,
        dataset: 'Support SFT',
        snapshotId: 'A'.repeat(64),
        sequence: 0,
        format: 'sft',
        createdAt: 'yesterday',
        definition: ['not', 'an', 'object'],
      }),
    ).toEqual([
      'data.createdAt',
      'data.dataset',
      'data.definition',
      'data.format',
      'data.sequence',
      'data.snapshotId',
    ]);
    expect(issuesOf({ ...SNAPSHOT, records: 1.5 })).toContain('data.records');
    expect(issuesOf({ ...SNAPSHOT, records: 2, splits: { Train: 1, train: 1 } })).toEqual([
      'data.splits.Train',
    ]);
    expect(issuesOf({ ...SNAPSHOT, records: 2, splits: { train: -1, test: 3 } })).toEqual([
      'data.splits.train',
    ]);
    const { definition: _definition, ...missing } = SNAPSHOT;
    expect(issuesOf(missing)).toEqual(['data.definition']);
    expect(issuesOf({ ...SNAPSHOT, project: 'checkout-team' })).toEqual(['data.project']);
  });

  it('rejects split counts that do not add up to records', () => {
    expect(issuesOf({ ...SNAPSHOT, records: 1201 })).toEqual(['data.splits']);
    expect(issuesOf({ ...SNAPSHOT, records: 0, splits: { train: 1 } })).toEqual(['data.splits']);
  });
});

describe('dataset names, formats and scopes', () => {
  it('DATASET_NAME_PATTERN: lowercase, 1 to 63 characters, no slash', () => {
    for (const ok of ['a', 'support-sft', 'v2.eval_set', '0', 'a'.repeat(63)]) {
      expect(DATASET_NAME_PATTERN.test(ok)).toBe(true);
    }
    for (const bad of ['', '-a', '.a', 'A', 'a/b', 'a b', 'a'.repeat(64), 'é']) {
      expect(DATASET_NAME_PATTERN.test(bad)).toBe(false);
    }
  });

  it('SPLIT_NAME_PATTERN: starts with a letter, 1 to 32 characters', () => {
    for (const ok of ['train', 'validation', 'test_2', 'held-out', 'a'.repeat(32)]) {
      expect(SPLIT_NAME_PATTERN.test(ok)).toBe(true);
    }
    for (const bad of ['', '2test', '_a', 'Test', 'a.b', 'a'.repeat(33)]) {
      expect(SPLIT_NAME_PATTERN.test(bad)).toBe(false);
    }
  });

  it('formats and scopes', () => {
    expect(DATASET_FORMATS).toEqual(['chat', 'preference', 'eval']);
    expect(EXPORT_FORMATS).toEqual(['openai-chat', 'openai-preference', 'trl-dpo', 'eval']);
    expect(isScope('datasets:read')).toBe(true);
    expect(isScope('datasets:write')).toBe(true);
  });
});
