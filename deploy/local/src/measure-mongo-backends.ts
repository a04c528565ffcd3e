/**
 * Measures what the services need from a MongoDB-wire server, so the local backend is chosen on
 * evidence: whether a conditional `updateOne` is atomic under concurrent writers, update and delete
 * latency by `_id` (alone and with a compare-and-set condition) at two collection sizes, `$in`
 * reads, and `insertMany` throughput.
 *
 *   npm run measure:mongo                        # FerretDB on SQLite and on PostgreSQL, side by side
 *   MEASURE_MONGODB_URIS=name=mongodb://... npm run measure:mongo   # any servers, comma-separated
 *   MEASURE_SIZES=1000 npm run measure:mongo      # collection sizes (default 10000,100000)
 *
 * Without MEASURE_MONGODB_URIS it starts both FerretDB backends through the local launcher on
 * spare ports and stops them afterwards. It prints one markdown table; the root README shows it.
 */
import { mongo } from 'mongoose';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { startMongo, stopComponent, stopPostgres } from './launcher';

const WRITERS = 20;
const ROUNDS_PER_WRITER = 25;
const SIZES = (process.env.MEASURE_SIZES ?? '10000,100000').split(',').map(Number);
const OPS = 100;
const IN_IDS = 100;
const INSERT_BATCH = 1_000;

interface Row {
  readonly metric: string;
  readonly values: string[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`;

async function timeEach(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    samples.push(performance.now() - t);
  }
  return median(samples);
}

/**
 * 20 writers race compare-and-set increments on one document. On a server that makes a conditional
 * update atomic nothing is lost, ever; a lost increment proves it is not (no loss in one run proves
 * nothing).
 */
async function casAtomicity(db: mongo.Db): Promise<string> {
  const c = db.collection<{ _id: string; v: number }>('cas');
  await c.deleteMany({});
  await c.insertOne({ _id: 'counter', v: 0 });
  let applied = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (let i = 0; i < ROUNDS_PER_WRITER; i++) {
        const doc = await c.findOne({ _id: 'counter' });
        const r = await c.updateOne({ _id: 'counter', v: doc!.v }, { $set: { v: doc!.v + 1 } });
        applied += r.modifiedCount;
      }
    }),
  );
  const final = (await c.findOne({ _id: 'counter' }))!.v;
  const lost = applied - final;
  return lost === 0
    ? `yes (${applied} applied, 0 lost)`
    : `**no**: ${applied} reported applied, ${lost} lost`;
}

async function sized(db: mongo.Db, size: number, rows: Map<string, string>): Promise<void> {
  const c = db.collection<{ _id: string; v: number; pad: string }>(`docs_${size}`);
  await c.drop().catch(() => undefined);
  const pad = 'x'.repeat(200);
  const id = (i: number): string => `doc-${String(i).padStart(7, '0')}`;
  let insertMs = 0;
  for (let start = 0; start < size; start += INSERT_BATCH) {
    const docs = Array.from({ length: Math.min(INSERT_BATCH, size - start) }, (_, k) => ({
      _id: id(start + k),
      v: 0,
      pad,
    }));
    const t = performance.now();
    await c.insertMany(docs, { ordered: false });
    insertMs += performance.now() - t;
  }
  rows.set(
    `insertMany, docs/s (batches of ${INSERT_BATCH}, ${size / 1000}k total)`,
    `${Math.round(size / (insertMs / 1000))}`,
  );
  const pick = (i: number): number => (i * 7919) % size;
  rows.set(
    `updateOne by _id, ${size / 1000}k docs (median)`,
    ms(await timeEach(OPS, (i) => c.updateOne({ _id: id(pick(i)) }, { $inc: { v: 1 } }))),
  );
  rows.set(
    `updateOne by _id + condition, ${size / 1000}k docs (median)`,
    ms(await timeEach(OPS, (i) => c.updateOne({ _id: id(pick(i + OPS)), v: 0 }, { $set: { v: 1 } }))),
  );
  rows.set(
    `find _id $in ${IN_IDS}, ${size / 1000}k docs (median)`,
    ms(
      await timeEach(20, (i) =>
        c
          .find({ _id: { $in: Array.from({ length: IN_IDS }, (_, k) => id(pick(i * IN_IDS + k))) } })
          .toArray(),
      ),
    ),
  );
  rows.set(
    `deleteOne by _id, ${size / 1000}k docs (median)`,
    ms(await timeEach(OPS, (i) => c.deleteOne({ _id: id(pick(i + 2 * OPS)) }))),
  );
  await c.drop();
}

async function measure(uri: string): Promise<Map<string, string>> {
  const client = await mongo.MongoClient.connect(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    const db = client.db('llmops_measure');
    const rows = new Map<string, string>();
    rows.set(
      `conditional updateOne atomic (${WRITERS} writers x ${ROUNDS_PER_WRITER})`,
      await casAtomicity(db),
    );
    for (const size of SIZES) await sized(db, size, rows);
    await db.dropDatabase();
    return rows;
  } finally {
    await client.close();
  }
}

async function targets(): Promise<{ name: string; uri: string; stop?: () => Promise<void> }[]> {
  const given = process.env.MEASURE_MONGODB_URIS;
  if (given) {
    return given.split(',').map((pair) => {
      const [name, uri] = pair.split('=', 2) as [string, string];
      return { name, uri };
    });
  }
  const started: { name: string; uri: string; stop: () => Promise<void> }[] = [];
  let port = 27117;
  for (const backend of ['sqlite', 'postgresql'] as const) {
    const name = `measure-${backend}`;
    const m = await startMongo({
      name,
      engine: 'ferretdb',
      ferretBackend: backend,
      port: port++,
      fresh: true,
    }).catch(async (err: unknown) => {
      for (const s of started) await s.stop(); // the backend started before this one
      throw err;
    });
    const stop = async (): Promise<void> => {
      await stopComponent(name);
      stopPostgres(m.dataDir);
      rmSync(dirname(m.dataDir), { recursive: true, force: true });
    };
    started.push({
      name: `FerretDB 1.24 / ${backend === 'sqlite' ? 'SQLite' : 'PostgreSQL 15'}`,
      uri: m.uri,
      stop,
    });
  }
  return started;
}

async function main(): Promise<void> {
  const list = await targets();
  const results: Row[] = [];
  try {
    const columns: Map<string, string>[] = [];
    for (const t of list) {
      process.stderr.write(`measuring ${t.name} at ${t.uri}\n`);
      columns.push(await measure(t.uri));
    }
    for (const metric of columns[0]!.keys())
      results.push({ metric, values: columns.map((c) => c.get(metric) ?? '') });
  } finally {
    for (const t of list) await t.stop?.();
  }
  const header = `| what | ${list.map((t) => t.name).join(' | ')} |`;
  const rule = `| --- | ${list.map(() => '---').join(' | ')} |`;
  process.stdout.write(
    `${[header, rule, ...results.map((r) => `| ${r.metric} | ${r.values.join(' | ')} |`)].join('\n')}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
