import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sha256Hex } from '@llmops/hashing';
import { KeyDirectory } from '@llmops/platform';
import { expectEventually, issueTestKey, type TestInfra, testInfra } from '@llmops/testing';
import { Logger } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { evalLine, openAiChatLine, openAiPreferenceLine, trlDpoLine } from '../src/export/formats';
import { DatasetsMetrics } from '../src/metrics/datasets-metrics';
import { MONGO_SERVER_KIND } from '../src/persistence/example-layout';
import { SnapshotRepository } from '../src/persistence/snapshot.repository';
import {
  SNAPSHOT_RECORD,
  type SnapshotDoc,
  type SnapshotRecordDoc,
} from '../src/persistence/datasets.schemas';
import { type DatasetsTestApp, startDatasets } from './support/datasets-app';
import { seedExamples } from './support/example-seed';
import { seedSnapshot } from './support/snapshot-seed';

/** Collects garbage (V8's gc exposed at run time) and answers the heap in use. */
function collectGarbage(): () => number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    return process.memoryUsage().heapUsed;
  };
}

type Seeded = Record<string, unknown> & { split: string };

const chatRecord = (n: number, split: string, pad = ''): Seeded => ({
  id: `req-${n}`,
  split,
  input:
    n % 2 === 0
      ? `Question ${n}?${pad}`
      : [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: `Question ${n}?${pad}` },
        ],
  output: `Answer ${n}.`,
  ...(n % 3 === 0 ? { correction: `Better answer ${n}.` } : {}),
  model: 'gpt-4o-mini',
  latencyMs: 100 + n,
  timestamp: '2026-12-01T00:00:00.000Z',
  signals: {},
});

const preferenceRecord = (n: number, split: string): Seeded => ({
  id: `req-${n}`,
  split,
  kind: n % 2 === 0 ? 'correction' : 'rating',
  input: `Prompt ${n}`,
  preferred: `Good ${n}`,
  rejected: `Bad ${n}`,
  examples: [`req-${n}`],
  model: 'gpt-4o-mini',
});

const evalRecord = (n: number, split: string): Seeded => ({
  ...chatRecord(n, split),
  signals: { rating: { value: 5, source: 'judge', feedbackId: `f-${n}` } },
});

/** Records of the snapshot that clients leave in the middle of. */
const BIG = 3_000;

const lines = (raw: string): string[] => (raw === '' ? [] : raw.split(/(?<=\n)/));
const url = (dataset: string, ref: string, query = '') =>
  `/v1/datasets/${dataset}/snapshots/${ref}/download${query ? `?${query}` : ''}`;

/** The most a loopback connection buffers in the kernel: the largest send plus receive buffer. */
function socketBufferBytes(): number {
  const max = (file: string) => Number(readFileSync(file, 'utf8').trim().split(/\s+/)[2]);
  try {
    return max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

describe('snapshot downloads', () => {
  let infra: TestInfra;
  let svc: DatasetsTestApp;
  let metrics: DatasetsMetrics;
  let chat: SnapshotDoc;
  let chatRecords: Seeded[];
  let preference: Seeded[];
  let evals: Seeded[];

  const gauge = async (): Promise<number> => (await metrics.exportsInProgress.get()).values[0]?.value ?? 0;
  const exported = async (format: string): Promise<number> =>
    (await metrics.exportBytes.get()).values.find((v) => v.labels.format === format)?.value ?? 0;

  beforeAll(async () => {
    infra = await testInfra('datasets-export');
    svc = await startDatasets(infra, { DATASETS_CONSUMER_ENABLED: 'false' });
    metrics = svc.app.get(DatasetsMetrics);

    // More records than one cursor batch, written in chunks as a build writes them (the `_id`s
    // `<build>:<i>` do not sort in `i` order).
    chatRecords = Array.from({ length: 1_234 }, (_, n) =>
      chatRecord(n, n % 10 === 0 ? 'validation' : 'train'),
    );
    await seedSnapshot(svc.app, {
      dataset: 'support-sft',
      format: 'chat',
      split: { validation: 0.1 },
      records: chatRecords.slice(0, 10),
      sequence: 1,
    });
    chat = await seedSnapshot(svc.app, {
      dataset: 'support-sft',
      format: 'chat',
      split: { validation: 0.1 },
      records: chatRecords,
      sequence: 2,
      chunk: 97,
    });
    preference = Array.from({ length: 40 }, (_, n) => preferenceRecord(n, n < 30 ? 'train' : 'test'));
    await seedSnapshot(svc.app, {
      dataset: 'prefs',
      format: 'preference',
      split: { test: 0.25 },
      records: preference,
    });
    evals = Array.from({ length: 25 }, (_, n) => evalRecord(n, 'train'));
    await seedSnapshot(svc.app, {
      dataset: 'evals',
      format: 'eval',
      split: { holdout: 0.05 },
      records: evals,
    });
    await seedSnapshot(svc.app, { dataset: 'empty', format: 'chat', records: [] });
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
  });

  it('streams a chat split as openai-chat JSONL in snapshot order, by id, sequence or latest', async () => {
    const train = chatRecords.filter((r) => r.split === 'train');
    const expected = train.map((r) => openAiChatLine(r as never)).join('');
    for (const ref of [chat.id, '2', 'latest']) {
      const res = await svc.request('GET', url('support-sft', ref, 'split=train&format=openai-chat'));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/x-ndjson');
      expect(res.headers['x-llmops-snapshot-id']).toBe(chat.id);
      expect(res.headers['content-disposition']).toBe(
        'attachment; filename="support-sft-2-train.openai-chat.jsonl"',
      );
      expect(lines(res.raw)).toHaveLength(train.length);
      expect(res.raw).toBe(expected);
    }
    // Defaults: split train, the dataset format's first download format.
    expect((await svc.request('GET', url('support-sft', 'latest'))).raw).toBe(expected);
  });

  it('serves each split of each snapshot and counts the bytes it sends', async () => {
    const before = await exported('openai-chat');
    const validation = await svc.request('GET', url('support-sft', 'latest', 'split=validation'));
    expect(validation.status).toBe(200);
    expect(validation.raw).toBe(
      chatRecords
        .filter((r) => r.split === 'validation')
        .map((r) => openAiChatLine(r as never))
        .join(''),
    );
    expect((await exported('openai-chat')) - before).toBe(Buffer.byteLength(validation.raw));

    const first = await svc.request('GET', url('support-sft', '1', 'split=validation'));
    expect(first.headers['x-llmops-snapshot-id']).not.toBe(chat.id);
    expect(lines(first.raw)).toHaveLength(1);
  });

  it('writes preference pairs as openai-preference (default) or trl-dpo, and eval cases as eval', async () => {
    for (const [query, write] of [
      ['split=train', openAiPreferenceLine],
      ['split=train&format=openai-preference', openAiPreferenceLine],
      ['split=test&format=trl-dpo', trlDpoLine],
      ['split=train&format=trl-dpo', trlDpoLine],
    ] as const) {
      const split = /split=(\w+)/.exec(query)?.[1];
      const res = await svc.request('GET', url('prefs', 'latest', query));
      expect(res.status).toBe(200);
      expect(res.raw).toBe(
        preference
          .filter((r) => r.split === split)
          .map((r) => write(r as never))
          .join(''),
      );
    }
    const evalRes = await svc.request('GET', url('evals', '1', 'format=eval'));
    expect(evalRes.status).toBe(200);
    expect(evalRes.headers['content-disposition']).toBe('attachment; filename="evals-1-train.eval.jsonl"');
    expect(evalRes.raw).toBe(evals.map((r) => evalLine(r as never)).join(''));
  });

  it('builds and downloads examples whose score names hold a dot (records are stored as text)', async () => {
    await seedExamples(
      svc.app,
      ['dot-1', 'dot-2'].map((requestId, n) => ({
        requestId,
        generation: { model: 'dotted-scores', input: `Dotted ${n}?`, output: `Dotted answer ${n}.` },
        feedback: [{ rating: 5, scores: { 'tone.friendly': 0.5 + n / 4 } }],
      })),
    );
    for (const format of ['chat', 'eval']) {
      const name = `dotted-${format}`;
      const def = { name, format, filter: { model: 'dotted-scores' } };
      expect((await svc.request('POST', '/v1/datasets', def)).status).toBe(201);
      const snap = await svc.request<{ id: string; records: number }>(
        'POST',
        `/v1/datasets/${name}/snapshots`,
      );
      expect({ format, status: snap.status, records: snap.body.records }).toEqual({
        format,
        status: 201,
        records: 2,
      });
      const res = await svc.request('GET', url(name, 'latest'));
      expect(res.status).toBe(200);
      expect(lines(res.raw)).toHaveLength(2);
      // Stored as the very text the snapshot id hashes, score names as given.
      const stored = await svc.app
        .get<Model<SnapshotRecordDoc>>(getModelToken(SNAPSHOT_RECORD))
        .collection.find({
          build: (await svc.app.get(SnapshotRepository).resolve('default', name, 'latest'))?.build,
        })
        .sort({ i: 1 })
        .toArray();
      expect(sha256Hex(`[${stored.map((r) => r.json).join(',')}]`)).toBe(snap.body.id);
      const scores = stored.map(
        (r) =>
          (JSON.parse(r.json) as { signals: { scores: Record<string, { value: number }> } }).signals.scores,
      );
      expect(scores.map((s) => s['tone.friendly']?.value).sort()).toEqual([0.5, 0.75]);
    }
  });

  it('answers an empty body for a split without records', async () => {
    for (const [dataset, query] of [
      ['empty', ''],
      ['evals', 'split=holdout'],
    ]) {
      const res = await svc.request('GET', url(dataset, 'latest', query));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/x-ndjson');
      expect(res.raw).toBe('');
    }
  });

  it("answers 404 for an unknown dataset or snapshot, and the same for another project's", async () => {
    const unknownDataset = await svc.request<{ error: { code: string } }>('GET', url('nope', 'latest'));
    expect(unknownDataset.status).toBe(404);
    expect(unknownDataset.body.error.code).toBe('dataset_not_found');
    for (const ref of ['3', '0', 'first', 'f'.repeat(64), chat.id.slice(0, 12)]) {
      const res = await svc.request<{ error: { code: string } }>('GET', url('support-sft', ref));
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('snapshot_not_found');
    }

    const other = await issueTestKey(
      { kafkaBrokers: infra.kafkaBrokers, topicPrefix: svc.config.KAFKA_TOPIC_PREFIX },
      { project: 'other', name: 'other project' },
    );
    await svc.app.get(KeyDirectory).waitFor(other.keyId);
    const theirs = await svc.request<{ error: { code: string; message: string } }>(
      'GET',
      url('support-sft', 'latest'),
      undefined,
      other.key,
    );
    const missing = await svc.request('GET', url('nope', 'latest'), undefined, other.key);
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('dataset_not_found');
    expect(theirs.raw.replaceAll('support-sft', 'nope')).toBe(missing.raw);
  });

  it('documents the download with its scope, route class, parameters and media type', async () => {
    const doc = await svc.request<{ paths: Record<string, Record<string, Record<string, unknown>>> }>(
      'GET',
      '/docs-json',
      undefined,
      null,
    );
    const op = doc.body.paths['/v1/datasets/{name}/snapshots/{ref}/download'].get as {
      'x-llmops-scope': string;
      'x-llmops-route-class': string;
      parameters: Array<{ name: string; in: string; required?: boolean }>;
      responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
    };
    expect(op['x-llmops-scope']).toBe('datasets:read');
    expect(op['x-llmops-route-class']).toBe('read');
    expect(op.parameters.map((p) => `${p.in} ${p.name} ${p.required === true}`).sort()).toEqual([
      'path name true',
      'path ref true',
      'query format false',
      'query split false',
    ]);
    expect(Object.keys(op.responses['200'].content ?? {})).toEqual(['application/x-ndjson']);
    expect(Object.keys(op.responses['200'].headers ?? {})).toContain('x-llmops-snapshot-id');
    expect(Object.keys(op.responses).sort()).toEqual(expect.arrayContaining(['200', '400', '404']));
  });

  it('answers 400 for an unknown format or parameter, a bad split name, a foreign format or split', async () => {
    const cases: Array<[string, string, string, string?]> = [
      ['support-sft', 'format=csv', 'validation_failed', 'query.format'],
      ['support-sft', 'split=Train', 'validation_failed', 'query.split'],
      ['support-sft', 'split=', 'validation_failed', 'query.split'],
      ['support-sft', 'limit=10', 'validation_failed', 'query.limit'],
      ['support-sft', 'format=trl-dpo', 'format_mismatch'],
      ['prefs', 'format=openai-chat', 'format_mismatch'],
      ['evals', 'format=openai-chat', 'format_mismatch'],
      ['support-sft', 'split=test', 'unknown_split'],
    ];
    for (const [dataset, query, code, path] of cases) {
      const res = await svc.request<{
        error: { code: string; details: { issues?: Array<{ path: string }> } };
      }>('GET', url(dataset, 'latest', query));
      expect({ query, status: res.status, code: res.body.error.code }).toEqual({ query, status: 400, code });
      if (path) expect(res.body.error.details.issues?.map((i) => i.path)).toContain(path);
    }
  });

  describe('downloads over a real socket', () => {
    let port: number;
    let bodyBytes: number;
    let cursors: mongo.FindCursor[];
    let findSpy: jest.SpyInstance;
    /** While set, cursors hand out no record until it resolves (a database still sorting). */
    let firstBatch: Promise<void> | undefined;

    beforeAll(async () => {
      // About 6 MB of JSONL: more than the socket buffers hold, so the server is held by backpressure.
      const big = Array.from({ length: BIG }, (_, n) => chatRecord(n, 'train', ' lorem ipsum'.repeat(160)));
      await seedSnapshot(svc.app, { dataset: 'big', format: 'chat', records: big });
      bodyBytes = big.reduce((sum, r) => sum + Buffer.byteLength(openAiChatLine(r as never)), 0);
      await svc.app.listen(0, '127.0.0.1');
      port = (svc.app.getHttpServer().address() as AddressInfo).port;

      const collection = svc.app.get<Model<SnapshotRecordDoc>>(getModelToken(SNAPSHOT_RECORD)).collection;
      cursors = [];
      const find = collection.find.bind(collection);
      findSpy = jest.spyOn(collection, 'find').mockImplementation(((...args: Parameters<typeof find>) => {
        const cursor = find(...args);
        cursors.push(cursor);
        const gate = firstBatch;
        if (gate) {
          const iterate = cursor[Symbol.asyncIterator].bind(cursor);
          cursor[Symbol.asyncIterator] = async function* () {
            await gate;
            yield* iterate();
          };
        }
        return cursor;
      }) as typeof collection.find);
    }, 120_000);

    afterAll(() => findSpy?.mockRestore());

    /** The response to a download of the big snapshot, once its status and headers are in. */
    const get = (dataset = 'big'): Promise<IncomingMessage> =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: url(dataset, 'latest'),
            headers: { authorization: `Bearer ${svc.key.key}` },
            // One connection per download, closed with it: nothing pooled outlives the test.
            agent: false,
          },
          resolve,
        );
        req.once('error', reject);
        req.end();
      });

    /** Starts the download, waits for its first bytes, then leaves with the rest unread; its cursor id. */
    const abortedDownload = async (): Promise<mongo.Long> => {
      const res = await get();
      expect(res.statusCode).toBe(200);
      await new Promise((resolve) => res.once('data', resolve));
      res.pause();
      const id = cursors.at(-1)?.id;
      res.destroy();
      return id!;
    };

    // Seven downloads, each of a split that FerretDB scans the collection for: slow on a busy host.
    it('closes the cursor on the server and keeps nothing', async () => {
      const gc = collectGarbage();
      // Warm-up (lazy initialisation is not a leak), then the heap with nothing in progress.
      await abortedDownload();
      await expectEventually(async () => expect(await gauge()).toBe(0), { timeoutMs: 20_000 });
      cursors.length = 0;
      const heapBefore = gc();
      const before = await exported('openai-chat');

      const rounds = 6;
      const ids: mongo.Long[] = [];
      for (let round = 0; round < rounds; round++) ids.push(await abortedDownload());
      await expectEventually(async () => expect(await gauge()).toBe(0), { timeoutMs: 20_000 });
      const heapAfter = gc();

      expect(cursors).toHaveLength(rounds);
      const db = svc.app.get<Model<SnapshotRecordDoc>>(getModelToken(SNAPSHOT_RECORD)).db.db!;
      for (const [k, cursor] of cursors.entries()) {
        // The cursor was open on the server when the client left (more batches to come)...
        expect(ids[k].isZero()).toBe(false);
        // ...and was killed then, not left for the server to time out.
        expect(cursor.killed).toBe(true);
        await expect(
          db.command({ getMore: ids[k], collection: 'snapshot_records', batchSize: 1 }),
        ).rejects.toMatchObject({ code: 43 });
      }
      // Each download stopped long before the end of its split.
      const sent = (await exported('openai-chat')) - before;
      expect(sent).toBeLessThan((rounds * bodyBytes) / 2);
      // A download kept alive would hold its cursor's batch (500 records of about 2 KB) and buffers.
      expect(heapAfter - heapBefore).toBeLessThan(rounds * 512 * 1024);
    }, 300_000);

    it('sends the status and headers before the first records are read', async () => {
      let release!: () => void;
      firstBatch = new Promise<void>((resolve) => (release = resolve));
      try {
        const res = await get();
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('application/x-ndjson');
        expect(res.headers['x-llmops-snapshot-id']).toMatch(/^[0-9a-f]{64}$/);
        let received = 0;
        res.on('data', (chunk: Buffer) => (received += chunk.length));
        const ended = new Promise((resolve) => res.once('end', resolve));
        expect(received).toBe(0);
        release();
        await ended;
        expect(received).toBe(bodyBytes);
      } finally {
        release();
        firstBatch = undefined;
      }
    });

    it('aborts a download whose records vanish under it (snapshot deleted) instead of ending it short', async () => {
      const short = Array.from({ length: 1_500 }, (_, n) =>
        chatRecord(n, 'train', ' lorem ipsum'.repeat(40)),
      );
      const doomed = await seedSnapshot(svc.app, { dataset: 'doomed', format: 'chat', records: short });
      let release!: () => void;
      firstBatch = new Promise<void>((resolve) => (release = resolve));
      try {
        const res = await get('doomed');
        expect(res.statusCode).toBe(200);
        // Deleted while the download runs: the records after the first 1,000 are gone.
        const records = svc.app.get<Model<SnapshotRecordDoc>>(getModelToken(SNAPSHOT_RECORD)).collection;
        await records.deleteMany({ build: doomed.build, i: { $gte: 1_000 } });
        let received = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (received += chunk));
        res.on('error', () => undefined); // "aborted": what this test waits for
        const closed = new Promise((resolve) => res.once('close', resolve));
        release();
        await closed;
        // The client sees a transfer that did not complete, never a clean end of a short file.
        expect(res.complete).toBe(false);
        expect(lines(received).filter((l) => l.endsWith('\n')).length).toBeLessThan(1_000);
        await expectEventually(async () => expect(await gauge()).toBe(0), { timeoutMs: 10_000 });
      } finally {
        release();
        firstBatch = undefined;
      }
    });

    it('leaves a download that reads to the end unaffected', async () => {
      const before = await exported('openai-chat');
      const res = await get();
      expect(res.statusCode).toBe(200);
      let text = '';
      res.setEncoding('utf8');
      for await (const chunk of res) text += chunk as string;
      expect(Buffer.byteLength(text)).toBe(bodyBytes);
      expect(lines(text)).toHaveLength(BIG);
      expect((await exported('openai-chat')) - before).toBe(bodyBytes);
      await expectEventually(async () => expect(await gauge()).toBe(0), { timeoutMs: 10_000 });
    });

    it('holds about one batch of a split, not the split, while a client reads slowly', async () => {
      const gc = collectGarbage();
      const heapBefore = gc();
      const before = await exported('openai-chat');
      const res = await get();
      expect(res.statusCode).toBe(200);
      // Read a third of the body (counting bytes, keeping none), then stop reading.
      let received = 0;
      let stopped = false;
      await new Promise<void>((resolve) => {
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (!stopped && received >= bodyBytes / 3) {
            stopped = true;
            res.pause();
            resolve();
          }
        });
      });
      // The server stops once the socket is full: what it has sent stops growing.
      let sent = -1;
      await expectEventually(async () => {
        const now = (await exported('openai-chat')) - before;
        const settled = now === sent;
        sent = now;
        expect(settled).toBe(true);
      });
      const heapHeld = gc() - heapBefore;
      // Loopback sockets take up to the kernel's largest send and receive buffers (tcp_wmem and
      // tcp_rmem maxima) before the server feels the client's pause: where they are smaller than
      // the split, the server must have stopped short of the end.
      if (socketBufferBytes() < bodyBytes) expect(sent).toBeLessThan(bodyBytes);
      // One cursor batch (500 records of about 2 KB) and a chunk of lines; the split is 6 MB of JSONL.
      expect(heapHeld).toBeLessThan(bodyBytes / 3);
      const ended = new Promise((resolve) => res.once('end', resolve));
      res.resume();
      await ended;
      expect(received).toBe(bodyBytes);
    });

    it('never serves a split out of snapshot order: the server sorts it or the download aborts', async () => {
      // A split whose rows are stored in another order than `i` (what a build never writes):
      // the second half first.
      const records = Array.from({ length: 1_200 }, (_, n) =>
        chatRecord(n, 'train', ' lorem ipsum'.repeat(40)),
      );
      const shuffled = await seedSnapshot(svc.app, { dataset: 'shuffled', format: 'chat', records });
      const collection = svc.app.get<Model<SnapshotRecordDoc>>(getModelToken(SNAPSHOT_RECORD)).collection;
      const stored = await collection.find({ build: shuffled.build }).toArray();
      await collection.deleteMany({ build: shuffled.build });
      const byI = stored.sort((a, b) => a.i - b.i);
      await collection.insertMany([...byI.slice(600), ...byI.slice(0, 600)], { ordered: true });
      const logged = jest.spyOn(Logger.prototype, 'error');
      try {
        const res = await get('shuffled');
        expect(res.statusCode).toBe(200);
        let received = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (received += chunk));
        res.on('error', () => undefined); // "aborted" on FerretDB
        await new Promise((resolve) => res.once('close', resolve));
        const expected = records.map((r) => openAiChatLine(r as never)).join('');
        if (svc.app.get(MONGO_SERVER_KIND) === 'mongodb') {
          // Sorted through the {build, split, i} index.
          expect(res.complete).toBe(true);
          expect(received).toBe(expected);
        } else {
          // Natural order: records 600 to 1199 come first, then 0, which the reader refuses: the
          // lines sent before it end in an aborted transfer, never in a complete-looking file.
          expect(res.complete).toBe(false);
          expect(received.length).toBeLessThan(expected.length);
          expect(logged).toHaveBeenCalledWith(
            `download aborted: split train of build ${shuffled.build} came out of snapshot order: record 0 after 1199`,
          );
        }
        await expectEventually(async () => expect(await gauge()).toBe(0), { timeoutMs: 10_000 });
      } finally {
        logged.mockRestore();
      }
    });
  });
});
