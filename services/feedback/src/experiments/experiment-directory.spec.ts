import type { ComponentCheck, ConsumedMessage } from '@llmops/platform';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { experimentRecord, type TestExperiment } from '../../test/support/experiments';
import { loadFeedbackConfig } from '../config/feedback.config';
import { ExperimentDirectory } from './experiment-directory';

/** A directory over a topic whose partitions have these [low, high] offsets. */
function setup(offsets: Array<[number, number]>) {
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchTopicOffsets: async () =>
      offsets.map(([low, high], partition) => ({
        partition,
        low: String(low),
        high: String(high),
        offset: String(high),
      })),
  };
  const checks: ComponentCheck[] = [];
  const directory = new ExperimentDirectory(
    { admin: () => admin } as unknown as Kafka,
    loadFeedbackConfig({ LOG_LEVEL: 'silent' }),
    checks,
    pino({ level: 'silent' }),
  );
  return { directory, check: checks.find((c) => c.name === 'experiments') };
}

let offset = 0;
const record = (partition: number, e: TestExperiment | { tombstone: string }): ConsumedMessage => {
  const { key, value } = 'tombstone' in e ? { key: e.tombstone, value: null } : experimentRecord(e);
  return {
    topic: 'llmops.experiments.v1',
    partition,
    offset: String(offset++),
    key: Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    headers: {},
    timestamp: '0',
  };
};

describe('ExperimentDirectory', () => {
  beforeEach(() => (offset = 0));

  it('knows each experiment in its own project only; a tombstone removes it', () => {
    const { directory } = setup([]);
    directory.apply([
      record(0, { key: 'summarizer' }),
      record(0, { key: 'summarizer', project: 'team-b' }),
      record(1, { key: 'rival', project: 'team-b' }),
    ]);
    expect(directory.has('default', 'summarizer')).toBe(true);
    expect(directory.has('team-b', 'summarizer')).toBe(true);
    expect(directory.has('team-b', 'rival')).toBe(true);
    expect(directory.has('default', 'rival')).toBe(false);
    expect(directory.has('team-c', 'summarizer')).toBe(false);
    directory.apply([record(0, { tombstone: 'team-b/summarizer' }), record(1, { tombstone: 'rival' })]);
    expect(directory.has('team-b', 'summarizer')).toBe(false);
    expect(directory.has('default', 'summarizer')).toBe(true);
    expect(directory.has('team-b', 'rival')).toBe(true);
    expect(directory.size).toBe(2);
  });

  it('skips a record that is not an experiment snapshot', () => {
    const { directory } = setup([]);
    const bad = { ...record(0, { key: 'x' }), value: Buffer.from('{"not":"an event"}') };
    directory.apply([bad, record(0, { key: 'y' })]);
    expect([directory.has('default', 'x'), directory.has('default', 'y')]).toEqual([false, true]);
  });

  it('is ready once every non-empty partition reached the high watermark it had when first probed', async () => {
    // Partition 0 holds offsets 0..1, partition 1 is empty, partition 2 was compacted to 5..5.
    const { directory, check } = setup([
      [0, 2],
      [0, 0],
      [5, 6],
    ]);
    await expect(check?.check()).rejects.toThrow('still reading');
    directory.apply([record(0, { key: 'a' })]);
    expect(await directory.catchUp()).toBe(false);
    offset = 5;
    directory.apply([record(2, { key: 'c' })]);
    expect(await directory.catchUp()).toBe(false);
    offset = 1;
    directory.apply([record(0, { key: 'b' })]);
    expect(await directory.catchUp()).toBe(true);
    await expect(check?.check()).resolves.toBeUndefined();
  });

  it('an empty topic is caught up at once', async () => {
    const { directory } = setup([
      [0, 0],
      [3, 3],
    ]);
    expect(await directory.catchUp()).toBe(true);
  });
});
