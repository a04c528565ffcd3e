/**
 * The downloads as a real consumer reads them: snapshots built through the API from known examples,
 * every format and split downloaded, then loaded with Hugging Face `datasets`
 * (`load_dataset("json", data_files=...)`) in .ci/run's venv. Row counts, columns and split sizes
 * must equal ground truth computed here from the examples and the design's rules.
 *
 * .ci/run installs `datasets` into .local/venv; on a developer machine without it these tests are
 * skipped (they say so), in CI (CI=true) its absence is a failure.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canonicalize, sha256Hex } from '@llmops/hashing';
import { type TestInfra, testInfra } from '@llmops/testing';
import {
  type ExampleDoc,
  type ExampleInput,
  exampleId,
  feedbackKey,
  revisionKey,
} from '../src/domain/example';
import { type DatasetsTestApp, startDatasets } from './support/datasets-app';
import { storeExampleDocs } from './support/example-seed';

const HF_DATASETS_VERSION = '5.2.0';
const root = join(__dirname, '..', '..', '..');
const python = join(root, '.local', 'venv', 'bin', 'python');
const script = join(__dirname, 'fixtures', 'load_with_hf_datasets.py');

function hasHfDatasets(): boolean {
  const probe = spawnSync(python, ['-c', 'import datasets; print(datasets.__version__)'], {
    encoding: 'utf8',
  });
  return probe.status === 0 && probe.stdout.trim() === HF_DATASETS_VERSION;
}
const available = hasHfDatasets();
if (!available && process.env.CI !== 'true') {
  console.warn(
    `Hugging Face datasets ${HF_DATASETS_VERSION} not found in .local/venv: skipping the format tests. ` +
      `Install it with: python3 -m venv .local/venv && .local/venv/bin/pip install datasets==${HF_DATASETS_VERSION}`,
  );
}
const withHf = available || process.env.CI === 'true' ? describe : describe.skip;

interface Loaded {
  datasets: string;
  files: Record<
    string,
    Record<string, { rows: number; columns: string[]; features: Record<string, string>; first: unknown }>
  >;
}

/** Runs the loader offline, with a scratch HF_HOME (nothing read from or written to the user's cache). */
async function loadWithHf(
  dir: string,
  files: Record<string, Record<string, string>>,
  options: Record<string, unknown> = {},
): Promise<Loaded> {
  const { stdout } = await promisify(execFile)(
    python,
    [script, JSON.stringify(files), JSON.stringify(options)],
    {
      env: {
        ...process.env,
        HF_HOME: join(dir, 'hf-home'),
        HF_DATASETS_OFFLINE: '1',
        HF_HUB_OFFLINE: '1',
        HF_HUB_DISABLE_TELEMETRY: '1',
      },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 120_000,
    },
  );
  return JSON.parse(stdout) as Loaded;
}

// --- the known examples and the ground truth --------------------------------------------------

const N = 60;
const SPLIT = { validation: 0.25 };

/**
 * Example n: its input is shared by n, n+20 and n+40 (a string for even n, system + user messages
 * for odd n); every 4th has a reviewer's correction; ratings 1..4 by a user (distinct within an
 * input's group), none for n % 7 === 3.
 */
function example(n: number): { input: ExampleInput; output: string; correction?: string; rating?: number } {
  const k = n % 20;
  return {
    input:
      n % 2 === 0
        ? `Summarize ticket ${k}.`
        : [
            { role: 'system', content: 'You are a support agent.' },
            { role: 'user', content: `Ticket ${k}: printer offline.` },
          ],
    output: `Answer ${n}.`,
    ...(n % 4 === 0 ? { correction: `Corrected answer ${n}.` } : {}),
    ...(n % 7 === 3 ? {} : { rating: 1 + Math.floor(n / 20) + (n % 2) }),
  };
}

/** The design's split rule, from its definition: sha256 of the example id, first 52 bits, in [0, 1). */
function splitOf(id: string): string {
  const x = parseInt(sha256Hex(id).slice(0, 13), 16) / 2 ** 52;
  return x < SPLIT.validation ? 'validation' : 'train';
}

function count(splits: string[]): Record<string, number> {
  const counts: Record<string, number> = { train: 0, validation: 0 };
  for (const split of splits) counts[split]++;
  return counts;
}

function groundTruth() {
  const all = Array.from({ length: N }, (_, n) => ({ id: `hf-${n}`, ...example(n) }));
  const chat = count(all.map((e) => splitOf(e.id)));
  const evals = count(
    all.filter((e) => e.correction !== undefined || (e.rating ?? 0) >= 4).map((e) => splitOf(e.id)),
  );
  // Pairs: each correction over its output; inside one input, rated examples by (rating desc, id
  // asc), i-th best with i-th worst while the ratings differ by at least 1. A pair's split is its
  // preferred example's.
  const pairs: string[] = all.filter((e) => e.correction !== undefined).map((e) => splitOf(e.id));
  const groups = new Map<string, typeof all>();
  for (const e of all) {
    const key = canonicalize(e.input);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  for (const group of groups.values()) {
    const rated = group
      .filter((e) => e.rating !== undefined)
      .sort((a, b) => b.rating! - a.rating! || (a.id < b.id ? -1 : 1));
    for (let i = 0; i < Math.floor(rated.length / 2); i++) {
      if (rated[i].rating! - rated[rated.length - 1 - i].rating! < 1) break;
      pairs.push(splitOf(rated[i].id));
    }
  }
  return { chat, eval: evals, preference: count(pairs) };
}

function exampleDoc(n: number): ExampleDoc {
  const e = example(n);
  const requestId = `hf-${n}`;
  const at = new Date(Date.UTC(2026, 11, 1, 0, n)).toISOString();
  const feedback: ExampleDoc['feedback'] = {};
  const give = (feedbackId: string, fields: Record<string, unknown>, source: 'user' | 'reviewer') => {
    feedback[feedbackKey(feedbackId)] = {
      [revisionKey(1)]: {
        feedbackId,
        revision: 1,
        source,
        ratingScale: { min: 1, max: 5 },
        timestamp: at,
        receivedAt: at,
        ...fields,
      } as never,
    };
  };
  if (e.rating !== undefined) give(`${requestId}-rating`, { rating: e.rating }, 'user');
  if (e.correction !== undefined) give(`${requestId}-correction`, { correction: e.correction }, 'reviewer');
  return {
    _id: exampleId('default', requestId),
    project: 'default',
    requestId,
    generation: {
      input: e.input,
      inputHash: sha256Hex(canonicalize(e.input)),
      output: e.output,
      prompt: { name: 'support', hash: 'a'.repeat(64) },
      model: 'gpt-4o-mini',
      experiment: 'support-v2',
      arm: n % 2 === 0 ? 'A' : 'B',
      latencyMs: 200 + n,
      timestamp: at,
      receivedAt: at,
    },
    feedback,
    firstSeenAt: new Date(),
  };
}

/**
 * Eval cases of their own model, each a distinct input rated 5: in snapshot order (input hash), the
 * first and every other one lack experiment, arm and prompt. Loaded in chunks of about one line,
 * the first chunk has none of those values: Hugging Face `datasets` must still read later lines
 * that have them.
 */
const MIXED = 30;
const MIXED_MODEL = 'mixed-model';
function mixedDocs(): ExampleDoc[] {
  const inputs = Array.from({ length: MIXED }, (_, n) => `Mixed question ${n}?`);
  const order = [...inputs].sort((a, b) =>
    sha256Hex(canonicalize(a)) < sha256Hex(canonicalize(b)) ? -1 : 1,
  );
  return inputs.map((input, n) => {
    const requestId = `hfm-${n}`;
    const at = new Date(Date.UTC(2026, 11, 2, 0, n)).toISOString();
    const bare = order.indexOf(input) % 2 === 0;
    const feedbackId = `${requestId}-rating`;
    return {
      _id: exampleId('default', requestId),
      project: 'default',
      requestId,
      generation: {
        input,
        inputHash: sha256Hex(canonicalize(input)),
        output: `Mixed answer ${n}.`,
        ...(bare ? {} : { prompt: { name: 'support', hash: 'b'.repeat(64) }, experiment: 'mixed', arm: 'A' }),
        model: MIXED_MODEL,
        latencyMs: 100,
        timestamp: at,
        receivedAt: at,
      },
      feedback: {
        [feedbackKey(feedbackId)]: {
          [revisionKey(1)]: {
            feedbackId,
            revision: 1,
            source: 'judge',
            rating: 5,
            ratingScale: { min: 1, max: 5 },
            timestamp: at,
            receivedAt: at,
          } as never,
        },
      },
      firstSeenAt: new Date(),
    };
  });
}

// --- the test ---------------------------------------------------------------------------------

const MESSAGES = "List({'role': Value('string'), 'content': Value('string')})";
const ASSISTANT_TURN = MESSAGES;

const FORMATS = [
  { dataset: 'hf-chat', kind: 'chat', format: 'openai-chat', columns: { messages: MESSAGES } },
  {
    dataset: 'hf-preference',
    kind: 'preference',
    format: 'openai-preference',
    columns: {
      input: "{'messages': List({'role': Value('string'), 'content': Value('string')})}",
      preferred_output: ASSISTANT_TURN,
      non_preferred_output: ASSISTANT_TURN,
    },
  },
  {
    dataset: 'hf-preference',
    kind: 'preference',
    format: 'trl-dpo',
    columns: { prompt: MESSAGES, chosen: ASSISTANT_TURN, rejected: ASSISTANT_TURN },
  },
  {
    dataset: 'hf-eval',
    kind: 'eval',
    format: 'eval',
    columns: { input: MESSAGES, expected: "Value('string')" },
  },
] as const;

withHf('downloads loaded with Hugging Face datasets', () => {
  let infra: TestInfra;
  let svc: DatasetsTestApp;
  let dir: string;
  const snapshots: Record<string, { splits: Record<string, number>; records: number }> = {};

  beforeAll(async () => {
    infra = await testInfra('datasets-huggingface');
    svc = await startDatasets(infra, { DATASETS_CONSUMER_ENABLED: 'false' });
    dir = await mkdtemp(join(tmpdir(), 'llmops-hf-'));
    await storeExampleDocs(svc.app, [...Array.from({ length: N }, (_, n) => exampleDoc(n)), ...mixedDocs()]);
    for (const kind of ['chat', 'preference', 'eval']) {
      const created = await svc.request('POST', '/v1/datasets', {
        name: `hf-${kind}`,
        format: kind,
        filter: { experiment: 'support-v2' },
        split: SPLIT,
      });
      expect(created.status).toBe(201);
      const snapshot = await svc.request<{ splits: Record<string, number>; records: number }>(
        'POST',
        `/v1/datasets/hf-${kind}/snapshots`,
      );
      expect(snapshot.status).toBe(201);
      snapshots[`hf-${kind}`] = snapshot.body;
    }
    const mixed = await svc.request('POST', '/v1/datasets', {
      name: 'hf-eval-mixed',
      format: 'eval',
      filter: { model: MIXED_MODEL },
    });
    expect(mixed.status).toBe(201);
    expect((await svc.request('POST', '/v1/datasets/hf-eval-mixed/snapshots')).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await svc?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has datasets available in CI', () => {
    expect(available).toBe(true);
  });

  it('loads every format and split with the ground truth row counts and columns', async () => {
    const truth = groundTruth();
    const files: Record<string, Record<string, string>> = {};
    const rows: Record<string, Record<string, number>> = {};
    for (const { dataset, format } of FORMATS) {
      for (const split of ['train', 'validation']) {
        const res = await svc.request(
          'GET',
          `/v1/datasets/${dataset}/snapshots/latest/download?split=${split}&format=${format}`,
        );
        expect(res.status).toBe(200);
        const lines = res.raw === '' ? 0 : res.raw.split('\n').length - 1;
        (rows[format] ??= {})[split] = lines;
        if (lines === 0) continue;
        const path = join(dir, `${format}.${split}.jsonl`);
        await writeFile(path, res.raw);
        (files[format] ??= {})[split] = path;
      }
    }
    // Both splits of every format hold records (the examples were chosen so).
    for (const { format } of FORMATS)
      expect(Object.keys(files[format] ?? {})).toEqual(['train', 'validation']);

    const loaded = await loadWithHf(dir, files);
    expect(loaded.datasets).toBe(HF_DATASETS_VERSION);
    for (const { dataset, kind, format, columns } of FORMATS) {
      const expected = truth[kind];
      expect({ format, splits: snapshots[dataset].splits }).toEqual({ format, splits: expected });
      for (const split of ['train', 'validation']) {
        const got = loaded.files[format][split];
        expect({ format, split, rows: got.rows }).toEqual({ format, split, rows: expected[split] });
        expect(got.rows).toBe(rows[format][split]);
        const wanted = kind === 'eval' ? [...Object.keys(columns), 'metadata'] : Object.keys(columns);
        expect({ format, columns: got.columns }).toEqual({ format, columns: wanted });
        for (const [column, feature] of Object.entries(columns)) {
          expect({ format, column, feature: got.features[column] }).toEqual({ format, column, feature });
        }
      }
    }
  });

  it('loads eval cases whose first lines lack experiment, arm and prompt, a chunk at a time', async () => {
    const res = await svc.request('GET', '/v1/datasets/hf-eval-mixed/snapshots/latest/download');
    expect(res.status).toBe(200);
    const rows = res.raw
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { metadata: Record<string, unknown> });
    expect(rows).toHaveLength(MIXED);
    // The case under test: the first line has none of the values that later lines have.
    const values = (r: (typeof rows)[number]) => [
      r.metadata.experiment,
      r.metadata.arm,
      (r.metadata.prompt as { name?: string } | null | undefined)?.name,
    ];
    expect(values(rows[0]).map((v) => v || undefined)).toEqual([undefined, undefined, undefined]);
    expect(values(rows[1])).toEqual(['mixed', 'A', 'support']);
    const path = join(dir, 'eval-mixed.jsonl');
    await writeFile(path, res.raw);
    // Chunks of one line (a chunk is completed to the end of its line): the first is the first line.
    const loaded = await loadWithHf(dir, { eval: { train: path } }, { chunksize: 64 });
    const got = loaded.files.eval.train;
    expect(got.rows).toBe(MIXED);
    expect(got.features.metadata).toBe(
      "{'id': Value('string'), 'model': Value('string'), 'prompt': {'name': Value('string'), 'hash': Value('string')}, 'experiment': Value('string'), 'arm': Value('string'), 'expectedFrom': Value('string'), 'source': Value('string')}",
    );
    expect(got.first).toEqual(rows[0]);
  });

  it('loads what was written: the first chat row, pair and eval case as downloaded', async () => {
    const first = async (dataset: string, format: string) => {
      const res = await svc.request(
        'GET',
        `/v1/datasets/${dataset}/snapshots/latest/download?format=${format}`,
      );
      return JSON.parse(res.raw.slice(0, res.raw.indexOf('\n'))) as Record<string, unknown>;
    };
    const files: Record<string, Record<string, string>> = {};
    for (const { dataset, format } of FORMATS) {
      const res = await svc.request(
        'GET',
        `/v1/datasets/${dataset}/snapshots/latest/download?format=${format}`,
      );
      const path = join(dir, `first.${format}.jsonl`);
      await writeFile(path, res.raw);
      files[format] = { train: path };
    }
    const loaded = await loadWithHf(dir, files);
    for (const { dataset, format } of FORMATS) {
      const row = await first(dataset, format);
      if (format === 'eval') {
        // Nested metadata is read back as JSON (datasets' Json feature); the rest as written.
        expect(loaded.files[format].train.first).toMatchObject({ input: row.input, expected: row.expected });
      } else {
        expect(loaded.files[format].train.first).toEqual(row);
      }
    }
  });
});
