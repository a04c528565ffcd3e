/**
 * Benchmark: downloading a large snapshot split from the datasets service, which must not hold the
 * snapshot in memory. The service runs as a child process as production runs it (built first:
 * `nx run datasets:build`, then `node --enable-source-maps dist/services/datasets/src/main.js`) on
 * its own database; BENCH_RECORDS (1,000,000) chat records of about 300 bytes are written
 * straight into `snapshot_records` with insertMany, as the snapshot builder stores them. Then:
 *
 * - ours: `GET /v1/datasets/{name}/snapshots/latest/download?split=train` read to the end over HTTP,
 *   while the service's RSS is sampled every 50 ms: the peak RSS (goal < 150 MB), how much it
 *   rose over the idle service's, and records/s;
 * - baseline: the same cursor (same query, sort, batch size and projection) read in this process
 *   and written as the same JSONL lines, without HTTP or the service: records/s.
 *
 * Throughput is reported as ours/baseline, measured in the same run (the database's cost of reading
 * and sorting the split is in both). The run's database is dropped at the end.
 *
 * Run: BENCH_ONLY=datasets-export npm run bench   (several minutes with 1,000,000 records)
 * Env: KAFKA_BROKERS, MONGODB_URI as for the service; BENCH_RECORDS (1000000), BENCH_SEED_CHUNK
 *      (5000 records per insertMany), BENCH_SAMPLE_MS (50).
 */
import 'reflect-metadata';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import os from 'node:os';
import { canonicalize } from '@llmops/hashing';
import { freePort, issueTestKey, TEST_KEY_PEPPER } from '@llmops/testing';
import { mongo } from 'mongoose';
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

/** The built service (as the image runs it) on `port`, its own database and topic prefix. */
function startBuiltService(port: number, run: string): ChildProcess {
  return spawn(process.execPath, ['--enable-source-maps', 'dist/services/datasets/src/main.js'], {
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
      DATASETS_CONSUMER_ENABLED: 'false',
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
    await records.insertMany(docs, { ordered: false });
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

/** The baseline: the download's cursor and lines, in this process. */
async function readCursor(
  db: mongo.Db,
  build: string,
): Promise<{ records: number; bytes: number; seconds: number }> {
  const toLine = lineWriter('openai-chat');
  const started = performance.now();
  let records = 0;
  let bytes = 0;
  const cursor = db
    .collection<{ json: string }>('snapshot_records')
    .find(
      { build, split: 'train' },
      { sort: { i: 1 }, projection: { _id: 0, json: 1 }, batchSize: EXPORT_BATCH_SIZE },
    );
  for await (const { json } of cursor) {
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
): Promise<{ records: number; bytes: number; seconds: number; peakRssMb: number }> {
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
    return { records, bytes, seconds: (performance.now() - started) / 1000, peakRssMb };
  } finally {
    clearInterval(sampler);
    peakRssMb = Math.max(peakRssMb, memoryMb(pid).rss);
  }
}

async function main(): Promise<void> {
  const run = runId();
  const dbName = `${run}_datasets`;
  const client = new mongo.MongoClient(MONGO);
  await client.connect();
  const db = client.db(dbName);
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

    const baseline = await readCursor(db, build);
    console.log(
      `baseline (cursor in process): ${baseline.records} records, ${(baseline.bytes / 1e6).toFixed(0)} MB in ${baseline.seconds.toFixed(1)} s`,
    );
    const ours = await download(url, key.key, child.pid!);
    console.log(
      `ours (HTTP download): ${ours.records} records, ${(ours.bytes / 1e6).toFixed(0)} MB in ${ours.seconds.toFixed(1)} s; ` +
        `peak RSS ${ours.peakRssMb.toFixed(0)} MB (high-water mark since start ${memoryMb(child.pid!).hwm.toFixed(0)} MB); load ${os.loadavg()[0].toFixed(1)}`,
    );
    if (ours.records !== RECORDS || ours.bytes !== baseline.bytes) {
      throw new Error(
        `download incomplete: ${ours.records} records, ${ours.bytes} bytes (expected ${baseline.bytes})`,
      );
    }
    reportResult({
      measure: `service peak RSS while downloading ${RECORDS.toLocaleString('en-US')} records`,
      value: ours.peakRssMb,
      unit: 'MB',
      goal: { op: '<', value: RSS_GOAL_MB },
    });
    reportResult({
      measure: `service RSS rise over its idle ${idle.rss.toFixed(0)} MB while downloading`,
      value: ours.peakRssMb - idle.rss,
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
    await client.close();
  }
}

runBench(main);
