import { createHash } from 'node:crypto';
import { EVENT_TYPES, parseEvent, TOPICS, topicName } from '@llmops/contracts';
import { canonicalize, sha256Hex } from '@llmops/hashing';
import { uuidv7 } from '@llmops/platform';
import {
  expectEventually,
  startTopicReader,
  type TestInfra,
  testInfra,
  type TopicReader,
} from '@llmops/testing';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { exampleId } from '../src/domain/example';
import { RECORD_CHUNK_BYTES } from '../src/datasets/create-snapshot.usecase';
import { splitOf } from '../src/domain/records';
import { AliasRepository } from '../src/persistence/alias.repository';
import { datasetDocId } from '../src/persistence/dataset.repository';
import { SnapshotRepository } from '../src/persistence/snapshot.repository';
import {
  SNAPSHOT,
  SNAPSHOT_RECORD,
  type SnapshotDoc,
  type SnapshotRecordDoc,
} from '../src/persistence/datasets.schemas';
import { type DatasetsTestApp, startDatasets } from './support/datasets-app';
import { exampleDoc, type SeedExample, seedExamples, storeExampleDocs } from './support/example-seed';

interface SnapshotBody {
  dataset: string;
  id: string;
  sequence: number;
  format: string;
  records: number;
  splits: Record<string, number>;
  definition: Record<string, unknown>;
}
type Rec = Record<string, unknown> & { id: string; split: string };

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

describe('dataset snapshots', () => {
  let infra: TestInfra;
  let svc: DatasetsTestApp;
  let events: TopicReader;
  let audit: TopicReader;
  let n = 0;

  beforeAll(async () => {
    infra = await testInfra('datasets-snapshots');
    svc = await startDatasets(infra, { DATASETS_CONSUMER_ENABLED: 'false' });
    events = await startTopicReader(
      infra.kafkaBrokers,
      topicName(TOPICS.datasetSnapshots, infra.topicPrefix),
    );
    audit = await startTopicReader(infra.kafkaBrokers, topicName(TOPICS.audit, infra.topicPrefix));
  }, 120_000);

  afterAll(async () => {
    await events?.stop();
    await audit?.stop();
    await svc?.close();
  });

  const snapshotsCollection = () => svc.app.get<Model<SnapshotDoc>>(getModelToken(SNAPSHOT)).collection;
  const recordsCollection = () =>
    svc.app.get<Model<SnapshotRecordDoc>>(getModelToken(SNAPSHOT_RECORD)).collection;

  async function define(definition: Record<string, unknown>): Promise<string> {
    const name = `ds-${++n}`;
    const res = await svc.request('POST', '/v1/datasets', { name, ...definition });
    expect(res.status).toBe(201);
    return name;
  }

  async function snapshot(name: string, status = 201): Promise<SnapshotBody> {
    const res = await svc.request<SnapshotBody>('POST', `/v1/datasets/${name}/snapshots`);
    expect(res.status).toBe(status);
    return res.body;
  }

  /** A snapshot's stored records in order. */
  async function recordsOf(name: string, id: string): Promise<Rec[]> {
    const doc = await snapshotsCollection().findOne({ dataset: name, id });
    const records = await recordsCollection().find({ build: doc?.build }).sort({ i: 1 }).toArray();
    return records.map((r) => JSON.parse(r.json) as Rec);
  }

  /** The ids of the records a definition's first snapshot holds, sorted. */
  async function idsFor(definition: Record<string, unknown>): Promise<string[]> {
    const name = await define(definition);
    const snap = await snapshot(name);
    return (await recordsOf(name, snap.id)).map((r) => r.id).sort();
  }

  it('applies every filter field (examples without generation or input never match)', async () => {
    const at = (day: string) => `2026-04-${day}T10:00:00.000Z`;
    const seeds: SeedExample[] = [
      { requestId: 'f-plain', generation: { experiment: 'filters', timestamp: at('01') } },
      {
        requestId: 'f-prompt-a',
        generation: { experiment: 'filters', prompt: { name: 'sum', hash: HASH_A }, timestamp: at('02') },
      },
      {
        requestId: 'f-prompt-b',
        generation: { experiment: 'filters', prompt: { name: 'sum', hash: HASH_B }, timestamp: at('03') },
      },
      {
        requestId: 'f-arm',
        generation: { experiment: 'filters', arm: 'treatment', model: 'other-model', timestamp: at('04') },
      },
      {
        requestId: 'f-rated',
        generation: { experiment: 'filters', timestamp: at('05') },
        feedback: [{ rating: 5, thumbs: 'up', scores: { helpful: 0.9 } }],
      },
      {
        requestId: 'f-low',
        generation: { experiment: 'filters', timestamp: '2026-04-06T10:00:00+02:00' },
        feedback: [{ rating: 2, thumbs: 'down', source: 'judge', scores: { helpful: 0.1 } }],
      },
      {
        requestId: 'f-corrected',
        generation: { experiment: 'filters', timestamp: at('07') },
        feedback: [{ correction: 'better', source: 'reviewer' }],
      },
      { requestId: 'f-other-exp', generation: { experiment: 'elsewhere', timestamp: at('02') } },
      { requestId: 'f-no-input', generation: { experiment: 'filters', input: null } },
      { requestId: 'f-parked', feedback: [{ rating: 5 }] },
      { requestId: 'f-other-project', project: 'other-team', generation: { experiment: 'filters' } },
    ];
    await seedExamples(svc.app, seeds);
    await svc.app
      .get(AliasRepository, { strict: false })
      .move([{ project: 'default', name: 'sum', alias: 'production', hash: HASH_B, version: 2 }]);
    const exp = { experiment: 'filters' };
    const all = ['f-arm', 'f-corrected', 'f-low', 'f-plain', 'f-prompt-a', 'f-prompt-b', 'f-rated'];

    expect(await idsFor({ format: 'chat', filter: exp })).toEqual(all);
    expect(await idsFor({ format: 'chat', filter: { prompt: { name: 'sum' }, ...exp } })).toEqual([
      'f-prompt-a',
      'f-prompt-b',
    ]);
    expect(await idsFor({ format: 'chat', filter: { prompt: { hash: HASH_A }, ...exp } })).toEqual([
      'f-prompt-a',
    ]);
    expect(
      await idsFor({ format: 'chat', filter: { prompt: { name: 'sum', alias: 'production' }, ...exp } }),
    ).toEqual(['f-prompt-b']);
    expect(await idsFor({ format: 'chat', filter: { experiment: 'elsewhere' } })).toEqual(['f-other-exp']);
    expect(await idsFor({ format: 'chat', filter: { arm: 'treatment', ...exp } })).toEqual(['f-arm']);
    expect(await idsFor({ format: 'chat', filter: { model: 'other-model', ...exp } })).toEqual(['f-arm']);
    // [from, to) on instants: f-low's 10:00+02:00 is 08:00Z on the 6th.
    expect(
      await idsFor({ format: 'chat', filter: { from: at('04'), to: '2026-04-06T08:00:00Z', ...exp } }),
    ).toEqual(['f-arm', 'f-rated']);
    expect(
      await idsFor({ format: 'chat', filter: { from: '2026-04-06T08:00:00Z', to: at('07'), ...exp } }),
    ).toEqual(['f-low']);
    expect(await idsFor({ format: 'chat', filter: { minRating: 4, ...exp } })).toEqual(['f-rated']);
    expect(await idsFor({ format: 'chat', filter: { maxRating: 3, ...exp } })).toEqual(['f-low']);
    expect(await idsFor({ format: 'chat', filter: { thumbs: 'down', ...exp } })).toEqual(['f-low']);
    expect(await idsFor({ format: 'chat', filter: { hasCorrection: true, ...exp } })).toEqual([
      'f-corrected',
    ]);
    expect(await idsFor({ format: 'chat', filter: { hasCorrection: false, ...exp } })).toEqual(
      all.filter((id) => id !== 'f-corrected'),
    );
    expect(await idsFor({ format: 'chat', filter: { source: 'judge', ...exp } })).toEqual(['f-low']);
    expect(await idsFor({ format: 'chat', filter: { scores: { helpful: { min: 0.5 } }, ...exp } })).toEqual([
      'f-rated',
    ]);
    expect(await idsFor({ format: 'chat', filter: { scores: { helpful: { max: 0.5 } }, ...exp } })).toEqual([
      'f-low',
    ]);
  });

  it('an alias the service never saw move is a 422, not an empty snapshot', async () => {
    const name = await define({ format: 'chat', filter: { prompt: { name: 'sum', alias: 'staging' } } });
    const res = await svc.request<{ error: { code: string } }>('POST', `/v1/datasets/${name}/snapshots`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('prompt_alias_not_found');
  });

  it('the id is the hash of the canonical records; nothing new answers the same snapshot (200)', async () => {
    await seedExamples(
      svc.app,
      Array.from({ length: 5 }, (_, i) => ({ requestId: `same-${i}`, generation: { experiment: 'same' } })),
    );
    const name = await define({ format: 'chat', filter: { experiment: 'same' } });
    const first = await snapshot(name, 201);
    expect(first).toMatchObject({
      dataset: name,
      sequence: 1,
      format: 'chat',
      records: 5,
      splits: { train: 5 },
    });
    const records = await recordsOf(name, first.id);
    const expected = createHash('sha256')
      .update(`[${records.map((r) => canonicalize(r)).join(',')}]`)
      .digest('hex');
    expect(first.id).toBe(expected);
    const again = await snapshot(name, 200);
    expect(again).toEqual(first);
    // The repeated build left no records behind.
    expect(await recordsCollection().countDocuments({ json: { $regex: '"id":"same-0"' } })).toBe(1);
    for (const ref of [first.id, '1', 'latest']) {
      const read = await svc.request<SnapshotBody>('GET', `/v1/datasets/${name}/snapshots/${ref}`);
      expect(read).toMatchObject({ status: 200, body: first });
    }
  });

  it('a request with nothing new writes nothing: a first pass only hashes the records', async () => {
    await seedExamples(svc.app, [
      { requestId: 'quiet-1', generation: { experiment: 'quiet' } },
      { requestId: 'quiet-2', generation: { experiment: 'quiet' } },
    ]);
    const name = await define({ format: 'chat', filter: { experiment: 'quiet' } });
    const first = await snapshot(name, 201);
    const writes = jest.spyOn(svc.app.get(SnapshotRepository, { strict: false }), 'insertRecords');
    try {
      expect(await snapshot(name, 200)).toEqual(first);
      expect(writes).not.toHaveBeenCalled();
    } finally {
      writes.mockRestore();
    }
  });

  it('writes records in chunks bounded by bytes as well as by count', async () => {
    const big = 'x'.repeat(Math.ceil(RECORD_CHUNK_BYTES / 2.5));
    await seedExamples(
      svc.app,
      [1, 2, 3, 4].map((i) => ({
        requestId: `big-${i}`,
        generation: { experiment: 'big', output: `${i}${big}` },
      })),
    );
    const name = await define({ format: 'chat', filter: { experiment: 'big' } });
    const writes = jest.spyOn(svc.app.get(SnapshotRepository, { strict: false }), 'insertRecords');
    try {
      expect(await snapshot(name, 201)).toMatchObject({ records: 4 });
      // Three records pass the byte bound: that chunk goes out, the fourth record is the next one.
      expect(writes.mock.calls.map(([chunk]) => chunk.length)).toEqual([3, 1]);
    } finally {
      writes.mockRestore();
    }
  });

  it('splits are stable: an example keeps its split when new examples arrive; new records, new id and sequence', async () => {
    const split = { test: 0.2, validation: 0.3 };
    const seed = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({
        requestId: `split-${from + i}`,
        generation: { experiment: 'split' },
      }));
    await seedExamples(svc.app, seed(0, 60));
    const name = await define({ format: 'chat', filter: { experiment: 'split' }, split });
    const first = await snapshot(name);
    const firstSplits = new Map((await recordsOf(name, first.id)).map((r) => [r.id, r.split]));
    expect(firstSplits.size).toBe(60);
    for (const [id, s] of firstSplits) expect(s).toBe(splitOf(exampleId('default', id), split));
    expect(Object.keys(first.splits).sort()).toEqual(['test', 'train', 'validation']);
    expect(Object.values(first.splits).reduce((a, b) => a + b, 0)).toBe(60);

    await seedExamples(svc.app, seed(60, 90));
    const second = await snapshot(name, 201);
    expect(second.sequence).toBe(2);
    expect(second.id).not.toBe(first.id);
    const secondRecords = await recordsOf(name, second.id);
    expect(secondRecords).toHaveLength(90);
    for (const r of secondRecords) if (firstSplits.has(r.id)) expect(r.split).toBe(firstSplits.get(r.id));
    const list = await svc.request<{ items: SnapshotBody[] }>('GET', `/v1/datasets/${name}/snapshots`);
    expect(list.body.items.map((s) => s.sequence)).toEqual([1, 2]);
  });

  it('snapshots are immutable: a later feedback edit changes only the next snapshot', async () => {
    await seedExamples(svc.app, [
      {
        requestId: 'imm-1',
        generation: { experiment: 'imm' },
        feedback: [{ feedbackId: 'imm-fb', rating: 5 }],
      },
      { requestId: 'imm-2', generation: { experiment: 'imm' }, feedback: [{ rating: 5 }] },
    ]);
    const name = await define({ format: 'chat', filter: { experiment: 'imm', minRating: 4 } });
    const first = await snapshot(name);
    const before = await recordsOf(name, first.id);
    expect(before.map((r) => r.id).sort()).toEqual(['imm-1', 'imm-2']);

    // The user edits their rating down (revision 2 replaces revision 1).
    await seedExamples(svc.app, [
      {
        requestId: 'imm-1',
        generation: { experiment: 'imm' },
        feedback: [
          { feedbackId: 'imm-fb', rating: 5 },
          { feedbackId: 'imm-fb', revision: 2, rating: 1, timestamp: '2026-03-02T00:00:00.000Z' },
        ],
      },
    ]);
    const second = await snapshot(name, 201);
    expect(second.sequence).toBe(2);
    expect((await recordsOf(name, second.id)).map((r) => r.id)).toEqual(['imm-2']);
    expect(await recordsOf(name, first.id)).toEqual(before);
    const old = await svc.request<SnapshotBody>('GET', `/v1/datasets/${name}/snapshots/1`);
    expect(old.body).toEqual(first);
  });

  it('dedupe keeps one record per input, limit caps the records', async () => {
    await seedExamples(svc.app, [
      { requestId: 'dup-1', generation: { experiment: 'dup', input: 'same question' } },
      { requestId: 'dup-2', generation: { experiment: 'dup', input: 'same question' } },
      { requestId: 'dup-3', generation: { experiment: 'dup', input: [{ role: 'user', content: 'other' }] } },
    ]);
    expect(await idsFor({ format: 'chat', filter: { experiment: 'dup' } })).toHaveLength(3);
    const deduped = await idsFor({ format: 'chat', filter: { experiment: 'dup' }, dedupe: true });
    expect(deduped).toHaveLength(2);
    expect(deduped).toContain('dup-3');
    expect(await idsFor({ format: 'chat', filter: { experiment: 'dup' }, limit: 2 })).toHaveLength(2);
  });

  it('redact masks e-mail addresses and phone numbers in every text of the records', async () => {
    await seedExamples(svc.app, [
      {
        requestId: 'pii-1',
        generation: {
          experiment: 'pii',
          input: [{ role: 'user', content: 'I am jane.doe@example.com, call +1 415 555 0100' }],
          output: 'Sure jane.doe@example.com',
        },
        feedback: [{ correction: 'Mail jane.doe@example.com', comment: 'phone +1 415 555 0100' }],
      },
    ]);
    const plainName = await define({ format: 'chat', filter: { experiment: 'pii' } });
    const plain = await snapshot(plainName);
    expect(JSON.stringify(await recordsOf(plainName, plain.id))).toContain('jane.doe@example.com');
    const name = await define({ format: 'chat', filter: { experiment: 'pii' }, redact: true });
    const masked = await snapshot(name);
    const [record] = await recordsOf(name, masked.id);
    const text = JSON.stringify(record);
    expect(text).not.toContain('jane.doe@example.com');
    expect(text).not.toContain('555 0100');
    expect(record).toMatchObject({
      input: [{ role: 'user', content: 'I am [email], call [phone]' }],
      output: 'Sure [email]',
      correction: 'Mail [email]',
    });
  });

  it('preference: correction pairs and rating pairs within one input (margin)', async () => {
    const q = { experiment: 'pref', input: 'Summarize the ticket' };
    await seedExamples(svc.app, [
      { requestId: 'p-5', generation: { ...q, output: 'great' }, feedback: [{ rating: 5 }] },
      { requestId: 'p-4', generation: { ...q, output: 'good' }, feedback: [{ rating: 4 }] },
      { requestId: 'p-3', generation: { ...q, output: 'fine' }, feedback: [{ rating: 3 }] },
      {
        requestId: 'p-1',
        generation: { ...q, output: 'bad' },
        feedback: [{ rating: 1, correction: 'fixed' }],
      },
      { requestId: 'p-x', generation: { experiment: 'pref', input: 'another' }, feedback: [{ rating: 5 }] },
    ]);
    const name = await define({
      format: 'preference',
      filter: { experiment: 'pref' },
      preference: { ratingMargin: 2 },
    });
    const snap = await snapshot(name);
    expect(snap.format).toBe('preference');
    const records = await recordsOf(name, snap.id);
    expect(records.map((r) => [r.kind, r.id, r.preferred, r.rejected])).toEqual([
      ['correction', 'p-1', 'fixed', 'bad'],
      ['rating', 'p-5>p-1', 'great', 'bad'],
    ]);
    expect(records[1]).toMatchObject({
      input: 'Summarize the ticket',
      examples: ['p-5', 'p-1'],
      model: 'gpt-test',
      split: 'train',
    });
    const margin1 = await idsFor({ format: 'preference', filter: { experiment: 'pref' } });
    expect(margin1).toEqual(['p-1', 'p-4>p-3', 'p-5>p-1'].sort());
  });

  it('eval: the cases with an expected answer (a correction, or a rating >= eval.minRating)', async () => {
    await seedExamples(svc.app, [
      {
        requestId: 'e-corr',
        generation: { experiment: 'eval' },
        feedback: [{ rating: 2, correction: 'right' }],
      },
      { requestId: 'e-good', generation: { experiment: 'eval' }, feedback: [{ rating: 4 }] },
      { requestId: 'e-meh', generation: { experiment: 'eval' }, feedback: [{ rating: 3 }] },
      { requestId: 'e-none', generation: { experiment: 'eval' } },
    ]);
    const name = await define({ format: 'eval', filter: { experiment: 'eval' } });
    const snap = await snapshot(name);
    const records = await recordsOf(name, snap.id);
    expect(records.map((r) => r.id).sort()).toEqual(['e-corr', 'e-good']);
    expect(records.find((r) => r.id === 'e-corr')).toMatchObject({
      correction: 'right',
      signals: { correction: { value: 'right', source: 'user' } },
    });
    expect(await idsFor({ format: 'eval', filter: { experiment: 'eval' }, eval: { minRating: 3 } })).toEqual([
      'e-corr',
      'e-good',
      'e-meh',
    ]);
  });

  it('announces each new snapshot on Kafka (the contract, keyed by dataset) and in the audit trail', async () => {
    await seedExamples(svc.app, [{ requestId: 'ev-1', generation: { experiment: 'ev' } }]);
    const name = await define({ format: 'chat', filter: { experiment: 'ev' }, split: { validation: 0.5 } });
    const snap = await snapshot(name);
    await snapshot(name, 200);
    await expectEventually(() => {
      const mine = events.records.filter((r) => r.key === name);
      expect(mine).toHaveLength(1);
      const event = parseEvent(mine[0].value);
      expect(event.type).toBe(EVENT_TYPES.datasetSnapshotCreated);
      expect(event).toMatchObject({ source: '/llmops/datasets', project: 'default' });
      expect(event.data).toEqual({
        dataset: name,
        snapshotId: snap.id,
        sequence: 1,
        format: 'chat',
        records: 1,
        splits: snap.splits,
        createdAt: expect.any(String),
        definition: { format: 'chat', filter: { experiment: 'ev' }, split: { validation: 0.5 } },
      });
    });
    await expectEventually(() => {
      const trail = audit.records
        .map((r) => parseEvent(r.value))
        .filter((e) => e.type === EVENT_TYPES.auditRecorded && e.data.resource === `${name}@1`);
      expect(trail.map((e) => e.data)).toEqual([
        expect.objectContaining({
          action: 'dataset.snapshot-created',
          actor: svc.key.keyId,
          project: 'default',
        }),
      ]);
    });
    const stored = await snapshotsCollection().findOne({ dataset: name });
    expect(stored?.published).toBe(true);
  });

  it('at boot, re-sends the snapshots whose announcement did not go out and drops abandoned builds', async () => {
    const name = await define({ format: 'chat', filter: { experiment: 'none-such' } });
    await snapshotsCollection().insertOne({
      _id: `${datasetDocId('default', name)}@1`,
      project: 'default',
      dataset: name,
      id: 'c'.repeat(64),
      sequence: 1,
      build: 'unannounced-build',
      format: 'chat',
      records: 0,
      splits: {},
      definition: { format: 'chat' },
      createdAt: new Date(),
      createdBy: svc.key.keyId,
      published: false,
    } as never);
    // Records of builds no snapshot owns: one abandoned two days ago, one that may still be running.
    const abandoned = uuidv7(Date.now() - 2 * 86_400_000);
    const running = uuidv7();
    await recordsCollection().insertMany(
      [abandoned, running].map((build) => ({
        _id: `${build}:0`,
        build,
        i: 0,
        split: 'train',
        json: JSON.stringify({ id: 'orphan' }),
      })) as never,
    );
    const replica = await startDatasets(infra, { DATASETS_CONSUMER_ENABLED: 'false' });
    try {
      await expectEventually(async () => {
        expect(events.records.filter((r) => r.key === name)).toHaveLength(1);
        expect((await snapshotsCollection().findOne({ dataset: name }))?.published).toBe(true);
        expect(await recordsCollection().countDocuments({ build: abandoned })).toBe(0);
      });
      expect(await recordsCollection().countDocuments({ build: running })).toBe(1);
    } finally {
      await replica.close();
    }
  });

  it('concurrent requests for the same records make one snapshot; the other build leaves nothing', async () => {
    await seedExamples(
      svc.app,
      Array.from({ length: 30 }, (_, i) => ({ requestId: `conc-${i}`, generation: { experiment: 'conc' } })),
    );
    const name = await define({ format: 'chat', filter: { experiment: 'conc' } });
    const before = await recordsCollection().countDocuments();
    const answers = await Promise.all(
      [1, 2, 3].map(() => svc.request<SnapshotBody>('POST', `/v1/datasets/${name}/snapshots`)),
    );
    // toEqual on the bodies too: a failure shows what each request answered.
    expect(answers.map((a) => `${a.status} ${a.raw}`).sort()).toEqual([
      `200 ${answers.find((a) => a.status === 201)?.raw}`,
      `200 ${answers.find((a) => a.status === 201)?.raw}`,
      `201 ${answers.find((a) => a.status === 201)?.raw}`,
    ]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.every((a) => a.body.sequence === 1)).toBe(true);
    expect(await snapshotsCollection().countDocuments({ dataset: name })).toBe(1);
    expect(await recordsCollection().countDocuments()).toBe(before + 30);
  });

  it('a build that fails half way leaves no records and no snapshot', async () => {
    // 600 good examples, then (last in input-hash order, after a chunk was written) one whose
    // stored cost is not a number the records can hold.
    const good = Array.from({ length: 600 }, (_, i) => ({
      requestId: `fail-${i}`,
      generation: { experiment: 'fail', input: `q-${i}` },
    }));
    let last = 0;
    while (!sha256Hex(canonicalize(`bad-${last}`)).startsWith('fff')) last++;
    await storeExampleDocs(svc.app, good.map(exampleDoc));
    const bad = exampleDoc({
      requestId: 'fail-bad',
      generation: { experiment: 'fail', input: `bad-${last}` },
    });
    await storeExampleDocs(svc.app, [
      { ...bad, generation: { ...bad.generation!, costUsd: new Date() as never } },
    ]);
    const name = await define({ format: 'chat', filter: { experiment: 'fail' } });
    const before = await recordsCollection().countDocuments();
    const res = await svc.request<{ error: { code: string } }>('POST', `/v1/datasets/${name}/snapshots`);
    expect(res.status).toBe(500);
    expect(await snapshotsCollection().countDocuments({ dataset: name })).toBe(0);
    expect(await recordsCollection().countDocuments()).toBe(before);
  });

  it('an unknown snapshot ref is a 404 snapshot_not_found', async () => {
    const name = await define({ format: 'chat' });
    for (const ref of ['latest', '1', 'f'.repeat(64), 'nope', '0', '-1']) {
      const res = await svc.request<{ error: { code: string } }>(
        'GET',
        `/v1/datasets/${name}/snapshots/${ref}`,
      );
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('snapshot_not_found');
    }
    const missing = await svc.request<{ error: { code: string } }>(
      'GET',
      '/v1/datasets/no-such/snapshots/latest',
    );
    expect(missing.body.error.code).toBe('dataset_not_found');
  });
});
