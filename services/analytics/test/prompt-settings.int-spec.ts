/**
 * The registry's prompt versions, consumed by the analytics service in a group of its own: each
 * version's settings (model, sampling params, other non-text spec fields) are stored per (project,
 * hash), never its text; a duplicated or replayed event changes nothing, and a record that is not
 * a version event does not stop the consumer.
 */
import { createEvent, EVENT_TYPES, serializeEvent, TOPICS, topicName } from '@llmops/contracts';
import { ensureTopics } from '@llmops/platform';
import { expectEventually, testInfra } from '@llmops/testing';
import type { Kafka, Producer } from 'kafkajs';
import { PROMPT_SETTINGS, type PromptSettingsDoc } from '../src/persistence/prompt-settings.repository';
import { startApp, type TestApp } from './support/app';
import { openPersistence } from './support/persistence';
import { connectProducer } from './support/scenario';

const HASH_A = 'a1'.repeat(32);
const HASH_B = 'b2'.repeat(32);

function versionEvent(name: string, hash: string, spec: Record<string, unknown>, project?: string) {
  return serializeEvent(
    createEvent(
      EVENT_TYPES.promptVersionRegistered,
      {
        name,
        hash,
        shortHash: hash.slice(0, 12),
        version: 1,
        spec: spec as never,
        createdAt: '2026-12-01T00:00:00.000Z',
      },
      { source: '/llmops/test', project },
    ),
  );
}

describe('analytics prompt settings from the prompt versions topic', () => {
  const infra = testInfra();
  let kafka: Kafka;
  let producer: Producer;
  let app: TestApp | undefined;
  let db: Awaited<ReturnType<typeof openPersistence>>;
  const topic = () => topicName(TOPICS.promptVersions, infra.topicPrefix);

  beforeAll(async () => {
    ({ kafka, producer } = await connectProducer(infra.kafkaBrokers));
    await ensureTopics(kafka, [
      { name: topic(), partitions: 6 },
      { name: topicName(TOPICS.deadLetter, infra.topicPrefix), partitions: 6 },
    ]);
    db = await openPersistence(infra.mongoBaseUri, infra.dbName);
  });

  afterAll(async () => {
    await app?.close();
    await producer?.disconnect();
    await db?.connection.close();
  });

  it('stores model and sampling params per (project, hash), once, and never the prompt text', async () => {
    const specA = {
      template: 'Summarize: {text}',
      system: 'Be brief.',
      model: 'gpt-4o-mini',
      params: { temperature: 0.7, max_tokens: 256, stop: ['\n\n'] },
      responseFormat: { type: 'text' },
    };
    const specB = { messages: [{ role: 'user', content: 'Hi {name}' }], model: 'claude-x' };
    const first = versionEvent('summarizer', HASH_A, specA);
    // Published before the service starts: its group reads the topic from the beginning.
    await producer.send({ topic: topic(), messages: [{ key: 'summarizer', value: first }] });
    app = await startApp(infra, `analytics-${infra.id}`);
    await producer.send({
      topic: topic(),
      messages: [
        // Redelivered, and the same spec under another name: the stored document stays as it was.
        { key: 'summarizer', value: first },
        { key: 'other', value: versionEvent('other', HASH_A, specA) },
        { key: 'greeter', value: versionEvent('greeter', HASH_B, specB, 'team') },
        // Not an event: rejected (the platform dead-letters it), and the records after it are applied.
        { key: 'summarizer', value: '{"not":"an event"}' },
        { key: 'summarizer', value: versionEvent('summarizer', HASH_B, { ...specB, model: 'm2' }) },
      ],
    });

    await expectEventually(
      async () => {
        const byHash = await db.promptSettings.find('default', [HASH_A, HASH_B], 'background');
        expect(byHash.get(HASH_A)).toEqual({
          model: 'gpt-4o-mini',
          params: { temperature: 0.7, max_tokens: 256, stop: ['\n\n'] },
          other: { responseFormat: { type: 'text' } },
        });
        expect(byHash.get(HASH_B)).toEqual({ model: 'm2', params: {}, other: {} });
        const team = await db.promptSettings.find('team', [HASH_A, HASH_B], 'background');
        expect([...team.keys()]).toEqual([HASH_B]);
        expect(team.get(HASH_B)?.model).toBe('claude-x');
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const docs = await db.connection
      .model<PromptSettingsDoc>(PROMPT_SETTINGS)
      .find({})
      .sort({ _id: 1 })
      .lean();
    expect(docs.map((d) => [d._id, d.name])).toEqual([
      [`default/${HASH_A}`, 'summarizer'],
      [`default/${HASH_B}`, 'summarizer'],
      [`team/${HASH_B}`, 'greeter'],
    ]);
    for (const d of docs) expect(d.settings).not.toMatch(/Summarize|Be brief|Hi \{name\}/);
  }, 180_000);

  it('a new group replaying the topic changes nothing', async () => {
    const before = await db.connection
      .model<PromptSettingsDoc>(PROMPT_SETTINGS)
      .find({})
      .sort({ _id: 1 })
      .lean();
    await app?.close();
    const replayGroup = `analytics-${infra.id}-replay`;
    app = await startApp(infra, replayGroup);
    // The replaying group has read the whole topic once it has committed up to its end.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await expectEventually(
        async () => {
          const ends = await admin.fetchTopicOffsets(topic());
          const [committed] = await admin.fetchOffsets({
            groupId: `${replayGroup}-prompts`,
            topics: [topic()],
          });
          const at = new Map(committed.partitions.map((p) => [p.partition, p.offset]));
          for (const e of ends) expect(at.get(e.partition)).toBe(e.high === '0' ? '-1' : e.high);
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    } finally {
      await admin.disconnect();
    }
    const after = await db.connection
      .model<PromptSettingsDoc>(PROMPT_SETTINGS)
      .find({})
      .sort({ _id: 1 })
      .lean();
    expect(after).toEqual(before);
  }, 180_000);
});
