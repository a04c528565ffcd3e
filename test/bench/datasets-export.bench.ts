/**
 * Benchmark: downloading a large snapshot split from the datasets service, which must not hold the
 * snapshot in memory. The service runs as a child process exactly as deployed: built first
 * (`nx run datasets:build`), then the command of the image's `datasets` stage (the CMD of
 * deploy/docker/Dockerfile, which the Kubernetes manifest repeats: `node --enable-source-maps
 * --optimize-for-size dist/services/datasets/src/main.js`), with its consumer running as it does in
 * every deployment, on its own database and topic prefix. BENCH_RECORDS (1,000,000) chat records of
 * about 300 bytes are written straight into `snapshot_records` in snapshot order, one ordered
 * insertMany at a time, as the snapshot builder stores them. Then:
 *
 * - ours: `GET /v1/datasets/{name}/snapshots/latest/download?split=train` read to the end over HTTP,
 *   while the service's peak RSS is taken from the kernel's high-water mark (VmHWM, reset when the
 *   download starts; also sampled every 50 ms for the log): the peak (goal < 150 MB), how much it
 *   rose over the idle service's, and records/s;
 * - baseline: the same read in this process (the same query, order, batch size and projection as
 *   the service's reader on this server: sorted by `i` on MongoDB, natural order on FerretDB) and
 *   written as the same JSONL lines, without HTTP or the service: records/s.
 *
 * Throughput is reported as ours/baseline, measured in the same run (the database's cost of reading
 * the split is in both). The run's database is dropped at the end.
 *
 * Run: BENCH_ONLY=datasets-export npm run bench   (about half an hour with 1,000,000 records on
 *      FerretDB on a busy 2-core host: the seeding and each of the two reads take about 10 minutes)
 * Env: KAFKA_BROKERS, MONGODB_URI as for the service; BENCH_RECORDS (1000000), BENCH_SEED_CHUNK
 *      (5000 records per insertMany), BENCH_SAMPLE_MS (50).
 */
import 'reflect-metadata';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import os from 'node:os';
import { canonicalize } from '@llmops/hashing';
import { mongoServerKind } from '@llmops/platform';
import { freePort, imageCommand, issueTestKey, TEST_KEY_PEPPER } from '@llmops/testing';
import mongoose, { type mongo } from 'mongoose';
/* eslint-disable @nx/enforce-module-boundaries -- the baseline writes the service's own lines from
   the service's own cursor, so that only HTTP and the service differ; nothing ships from here. */
import { lineWriter } from '../../services/datasets/src/export/formats';
import { EXPORT_BATCH_SIZE } from '../../services/datasets/src/export/snapshot-lines';
/* eslint-enable @nx/enforce-module-boundaries */
import {
  KAFKA,
  MONGO,
  reportRatio,
  ROOT,
  runBench,
  runId,
  setting,
  stopChild,
  waitUntil,
} from './support/harness';
import { reportResult } from './support/result';

const RECORDS = setting('BENCH_RECORDS', 1_000_000);
const SEED_CHUNK = setting('BENCH_SEED_CHUNK', 5_000);
const SAMPLE_MS = setting('BENCH_SAMPLE_MS', 50);
const RSS_GOAL_MB = 150;
const THROUGHPUT_GOAL = 0.8;
const DATASET = 'bench-sft';

/** The built service, started with the image's command, on `port`, its own database and topic prefix. */
function startBuiltService(port: number, run: string): ChildProcess {
  const [node, ...args] = imageCommand('datasets');
  if (node !== 'node') throw new Error(`the datasets image runs ${node}, not node`);
  console.log(`service: node ${args.join(' ')}`);
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      KAFKA_BROKERS: KAFKA,
      MONGODB_URI: MONGO,
      MONGODB_DB: `${run}_datasets`,
      KAFKA_TOPIC_PREFIX: `${run}.`,
      LOG_LEVEL: 'warn',
      LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Resident set size and its high-water mark of a process, in MB (Linux /proc). */
function memoryMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** A chat record as the snapshot builder stores it, about 300 bytes of JSON. */
function record(i: number): Record<string, unknown> {
  return {
    id: `bench-${i}`,
    split: 'train',
    input: `Ticket ${i}: the printer on floor ${i % 7} shows error E${i % 97} after a restart.`,
    output: `Power-cycle the printer on floor ${i % 7}, then clear the queue; E${i % 97} means a stuck job.`,
    ...(i % 5 === 0 ? { correction: `Clear the queue first, then power-cycle (E${i % 97}).` } : {}),
    model: 'gpt-4o-mini',
    latencyMs: 300 + (i % 500),
    timestamp: '2026-12-01T12:00:00.000Z',
    signals: { scores: {} },
  };
}

async function seed(db: mongo.Db, build: string): Promise<void> {
  const definition = { format: 'chat', filter: {} };
  await db.collection('datasets').insertOne({
    _id: DATASET as never,
    project: 'default',
    name: DATASET,
    definition,
    createdAt: new Date(),
    createdBy: 'bench',
  });
  const records = db.collection('snapshot_records');
  const started = performance.now();
  for (let start = 0; start < RECORDS; start += SEED_CHUNK) {
    const docs = [];
    for (let i = start; i < Math.min(RECORDS, start + SEED_CHUNK); i++) {
      docs.push({ _id: `${build}:${i}` as never, build, i, split: 'train', json: canonicalize(record(i)) });
    }
    await records.insertMany(docs, { ordered: true });
  }
  console.log(`seeded ${RECORDS} records in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  await db.collection('snapshots').insertOne({
    _id: `${DATASET}@1` as never,
    project: 'default',
    dataset: DATASET,
    id: 'f'.repeat(64),
    sequence: 1,
    build,
    format: 'chat',
    records: RECORDS,
    splits: { train: RECORDS },
    definition,
    createdAt: new Date(),
    createdBy: 'bench',
    published: true,
  });
}

/**
 * The baseline: the download's read and lines, in this process: the query of
 * SnapshotRepository.readRecords (sorted by `i` on MongoDB, natural order on FerretDB).
 */
async function readCursor(
  db: mongo.Db,
  build: string,
  sorted: boolean,
): Promise<{ records: number; bytes: number; seconds: number }> {
  const toLine = lineWriter('openai-chat');
  const started = performance.now();
  let records = 0;
  let bytes = 0;
  let previous = -1;
  const cursor = db.collection<{ i: number; json: string }>('snapshot_records').find(
    { build, split: 'train' },
    {
      ...(sorted ? { sort: { i: 1 } } : {}),
      projection: { _id: 0, i: 1, json: 1 },
      batchSize: EXPORT_BATCH_SIZE,
    },
  );
  for await (const { i, json } of cursor) {
    if (!(i > previous)) throw new Error(`record ${i} after ${previous}: not in snapshot order`);
    previous = i;
    bytes += Buffer.byteLength(toLine(JSON.parse(json) as Record<string, unknown>));
    records++;
  }
  return { records, bytes, seconds: (performance.now() - started) / 1000 };
}

/** Ours: the whole split over HTTP, sampling the service's memory meanwhile. */
async function download(
  url: string,
  key: string,
  pid: number,
): Promise<{ records: number; bytes: number; seconds: number; peakRssMb: number; hwmMb: number }> {
  // The kernel's high-water mark of the resident set, reset to the current RSS (Linux clear_refs
  // 5), so that after the download it is the true peak of the download, not a 50 ms sample.
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  let peakRssMb = 0;
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, memoryMb(pid).rss);
  }, SAMPLE_MS);
  const started = performance.now();
  try {
    // node:http, not fetch: fetch gives up on a body that sends nothing for 300 s, and a database
    // without sort pushdown reads the whole split before its first batch.
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpGet(
        `${url}/v1/datasets/${DATASET}/snapshots/latest/download?split=train`,
        { headers: { authorization: `Bearer ${key}` } },
        resolve,
      );
      req.once('error', reject);
    });
    if (res.statusCode !== 200) throw new Error(`download answered ${res.statusCode}`);
    let records = 0;
    let bytes = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) records++;
    }
    return {
      records,
      bytes,
      seconds: (performance.now() - started) / 1000,
      peakRssMb: Math.max(peakRssMb, memoryMb(pid).rss),
      hwmMb: memoryMb(pid).hwm,
    };
  } finally {
    clearInterval(sampler);
  }
}

async function main(): Promise<void> {
  const run = runId();
  const dbName = `${run}_datasets`;
  const connection = await mongoose.createConnection(MONGO, { dbName }).asPromise();
  const db = connection.db!;
  const sorted = (await mongoServerKind(connection)) === 'mongodb';
  console.log(`database ${dbName} (dropped at the end)`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  execFileSync('npx', ['nx', 'run', 'datasets:build', '--outputStyle=static'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const child = startBuiltService(port, run);
  try {
    const key = await issueTestKey(
      { kafkaBrokers: KAFKA, topicPrefix: `${run}.` },
      { name: 'datasets export benchmark', scopes: ['datasets:read'] },
    );
    await waitUntil(async () => (await fetch(`${url}/health/ready`)).ok, 'datasets service', {
      child,
      timeoutMs: 120_000,
    });
    await waitUntil(
      async () =>
        (await fetch(`${url}/v1/datasets/none/snapshots/latest/download`, { headers: key.header })).status ===
        404,
      'the benchmark key',
    );
    const build = randomUUID();
    await seed(db, build);
    const idle = memoryMb(child.pid!);
    console.log(
      `${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}; service idle RSS ${idle.rss.toFixed(0)} MB`,
    );

    const baseline = await readCursor(db, build, sorted);
    console.log(
      `baseline (cursor in process): ${baseline.records} records, ${(baseline.bytes / 1e6).toFixed(0)} MB in ${baseline.seconds.toFixed(1)} s`,
    );
    const ours = await download(url, key.key, child.pid!);
    console.log(
      `ours (HTTP download): ${ours.records} records, ${(ours.bytes / 1e6).toFixed(0)} MB in ${ours.seconds.toFixed(1)} s; ` +
        `peak RSS ${ours.hwmMb.toFixed(0)} MB (kernel high-water mark; highest ${SAMPLE_MS} ms sample ${ours.peakRssMb.toFixed(0)} MB); load ${os.loadavg()[0].toFixed(1)}`,
    );
    if (ours.records !== RECORDS || ours.bytes !== baseline.bytes) {
      throw new Error(
        `download incomplete: ${ours.records} records, ${ours.bytes} bytes (expected ${baseline.bytes})`,
      );
    }
    reportResult({
      measure: `service peak RSS while downloading ${RECORDS.toLocaleString('en-US')} records`,
      value: ours.hwmMb,
      unit: 'MB',
      goal: { op: '<', value: RSS_GOAL_MB },
    });
    reportResult({
      measure: `service RSS rise over its idle ${idle.rss.toFixed(0)} MB while downloading`,
      value: ours.hwmMb - idle.rss,
      unit: 'MB',
    });
    reportRatio(
      'download records/s, ours/cursor read in process',
      ours.records / ours.seconds,
      baseline.records / baseline.seconds,
      THROUGHPUT_GOAL,
    );
  } finally {
    await stopChild(child);
    await db.dropDatabase().catch(() => undefined);
    await connection.close();
  }
}

runBench(main);
