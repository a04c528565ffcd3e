import { canonicalize, sha256Hex } from '@llmops/hashing';
import type { DatasetDefinition } from '../datasets/dto/dataset-definition.request';
import { type ExampleDoc, exampleId, feedbackKey, type FeedbackRevision } from './example';
import {
  buildRecords,
  exampleQuery,
  normalizedRating,
  PREFERENCE_GROUP_CAP,
  type PreferenceRecord,
  type SnapshotRecord,
  splitOf,
} from './records';

const T = '2026-01-01T00:00:00.000Z';

function example(
  requestId: string,
  input: string,
  output: string,
  feedback: Array<Partial<FeedbackRevision>> = [],
  project = 'default',
): ExampleDoc {
  const doc: ExampleDoc = {
    _id: exampleId(project, requestId),
    project,
    requestId,
    generation: {
      input,
      inputHash: sha256Hex(canonicalize(input)),
      output,
      model: 'gpt-x',
      latencyMs: 10,
      timestamp: T,
      receivedAt: T,
    },
    feedback: {},
    firstSeenAt: new Date(T),
  };
  feedback.forEach((f, n) => {
    const feedbackId = `${requestId}-fb${n}`;
    doc.feedback![feedbackKey(feedbackId)] = {
      r1: {
        feedbackId,
        revision: 1,
        source: 'user',
        ratingScale: { min: 1, max: 5 },
        timestamp: T,
        receivedAt: T,
        ...f,
      },
    };
  });
  return doc;
}

/** Examples in snapshot order (input hash, then id), as the reader streams them. */
async function* sorted(docs: ExampleDoc[]): AsyncGenerator<ExampleDoc> {
  const key = (d: ExampleDoc) => `${d.generation!.inputHash}\u0000${d._id}`;
  yield* [...docs].sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

async function build(docs: ExampleDoc[], definition: DatasetDefinition, redact?: (s: string) => string) {
  const out: SnapshotRecord[] = [];
  for await (const r of buildRecords(sorted(docs), definition, { redact })) out.push(r);
  return out;
}

describe('splitOf', () => {
  it('is train without splits, and stable for an id', () => {
    expect(splitOf('a', undefined)).toBe('train');
    expect(splitOf('r1', { validation: 0.5 })).toBe(splitOf('r1', { validation: 0.5 }));
  });

  it('splits ids in about the asked fractions, named splits in name order', () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) {
      const s = splitOf(`req-${i}`, { validation: 0.1, test: 0.2 });
      counts[s] = (counts[s] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(['test', 'train', 'validation']);
    expect(counts.test / 10_000).toBeCloseTo(0.2, 1);
    expect(counts.validation / 10_000).toBeCloseTo(0.1, 1);
    // Growing a split only moves examples into it, never between the others.
    for (let i = 0; i < 1_000; i++) {
      const before = splitOf(`req-${i}`, { test: 0.2 });
      const after = splitOf(`req-${i}`, { test: 0.3 });
      if (before === 'test') expect(after).toBe('test');
    }
  });
});

describe('exampleQuery', () => {
  it('filters the project, usable generations and the database fields; widens the time range', () => {
    expect(
      exampleQuery(
        'p',
        {
          prompt: { name: 'sum', alias: 'prod' },
          model: 'm',
          from: '2026-02-10T00:00:00Z',
          to: '2026-02-11T00:00:00Z',
        },
        { aliasHash: 'h'.repeat(64) },
      ),
    ).toEqual({
      project: 'p',
      'generation.inputHash': { $exists: true },
      'generation.input': { $exists: true },
      'generation.prompt.name': 'sum',
      'generation.prompt.hash': 'h'.repeat(64),
      'generation.model': 'm',
      'generation.timestamp': { $gte: '2026-02-09', $lt: '2026-02-13' },
    });
  });
});

describe('buildRecords', () => {
  it('chat: filters on current feedback, keeps snapshot order, dedupes and limits', async () => {
    const docs = [
      example('a1', 'same', 'x', [{ rating: 5 }]),
      example('a2', 'same', 'y', [{ rating: 5 }]),
      example('b1', 'other', 'z', [{ rating: 2 }]),
      example('c1', 'third', 'w', [{ rating: 4, correction: 'W' }]),
    ];
    const all = await build(docs, { name: 'd', format: 'chat', filter: { minRating: 4 } });
    expect(all.map((r) => r.id).sort()).toEqual(['a1', 'a2', 'c1']);
    const deduped = await build(docs, { name: 'd', format: 'chat', filter: { minRating: 4 }, dedupe: true });
    expect(deduped.map((r) => r.id).sort()).toEqual(['a1', 'c1']);
    expect(await build(docs, { name: 'd', format: 'chat', limit: 2 })).toHaveLength(2);
    const c1 = all.find((r) => r.id === 'c1');
    expect(c1).toMatchObject({ correction: 'W', split: 'train', signals: { rating: { value: 4 } } });
    expect(Object.values(c1!)).not.toContain(undefined);
  });

  it('eval: only examples with a correction or a rating >= eval.minRating', async () => {
    const docs = [
      example('a', 'i1', 'o', [{ rating: 3 }]),
      example('b', 'i2', 'o', [{ rating: 3, correction: 'fixed' }]),
      example('c', 'i3', 'o', [{ rating: 5 }]),
      example('d', 'i4', 'o', [{ thumbs: 'up' }]),
    ];
    expect((await build(docs, { name: 'e', format: 'eval' })).map((r) => r.id).sort()).toEqual(['b', 'c']);
    expect(
      (await build(docs, { name: 'e', format: 'eval', eval: { minRating: 3 } })).map((r) => r.id).sort(),
    ).toEqual(['a', 'b', 'c']);
  });

  it('preference: correction pairs, then rating pairs best-with-worst while the margin holds', async () => {
    const docs = [
      example('r5', 'q', 'five', [{ rating: 5 }]),
      example('r4', 'q', 'four', [{ rating: 4 }]),
      example('r3', 'q', 'three', [{ rating: 3 }]),
      example('r1', 'q', 'one', [{ rating: 1, correction: 'better' }]),
      example('s1', 'other', 'x', [{ rating: 5 }]), // alone for its input: no pair
    ];
    const pairs = (await build(docs, {
      name: 'p',
      format: 'preference',
      preference: { ratingMargin: 2 },
    })) as PreferenceRecord[];
    expect(pairs.map((p) => [p.kind, p.id, p.preferred, p.rejected])).toEqual([
      ['correction', 'r1', 'better', 'one'],
      ['rating', 'r5>r1', 'five', 'one'],
      // r4 vs r3 differ by 1 < 2: no pair
    ]);
    expect(pairs[1]).toMatchObject({ examples: ['r5', 'r1'], input: 'q', model: 'gpt-x' });
    const margin1 = (await build(docs, { name: 'p', format: 'preference' })) as PreferenceRecord[];
    expect(margin1.map((p) => p.id)).toEqual(['r1', 'r5>r1', 'r4>r3']);
    const deduped = await build(docs, { name: 'p', format: 'preference', dedupe: true });
    expect(deduped.map((p) => p.id)).toEqual(['r1']);
  });

  it('redact masks every text of the record when asked', async () => {
    const docs = [
      example('a', 'mail me at a@b.co', 'ok a@b.co', [{ comment: 'a@b.co', correction: 'x a@b.co' }]),
    ];
    const mask = (s: string) => s.replaceAll('a@b.co', '[email]');
    const [plain] = await build(docs, { name: 'r', format: 'chat' }, mask);
    expect(JSON.stringify(plain)).toContain('a@b.co');
    const [masked] = await build(docs, { name: 'r', format: 'chat', redact: true }, mask);
    expect(JSON.stringify(masked)).not.toContain('a@b.co');
    expect(masked).toMatchObject({
      input: 'mail me at [email]',
      output: 'ok [email]',
      correction: 'x [email]',
    });
  });

  it('compares ratings on the 1..5 scale whatever scale they were given on', async () => {
    const tenScale = { ratingScale: { min: 0, max: 10 } };
    expect(normalizedRating({ value: 10, source: 'user', feedbackId: 'f', scale: { min: 0, max: 10 } })).toBe(
      5,
    );
    expect(normalizedRating({ value: 4, source: 'user', feedbackId: 'f' })).toBe(4);
    const docs = [
      example('a', 'i1', 'o', [{ rating: 9, ...tenScale }]), // 4.6
      example('b', 'i2', 'o', [{ rating: 5, ...tenScale }]), // 3
      example('c', 'i3', 'o', [{ rating: 4 }]),
    ];
    const ids = async (d: Partial<DatasetDefinition>) =>
      (await build(docs, { name: 'x', format: 'chat', ...d } as DatasetDefinition)).map((r) => r.id).sort();
    expect(await ids({ filter: { minRating: 4 } })).toEqual(['a', 'c']);
    expect(await ids({ filter: { maxRating: 3 } })).toEqual(['b']);
    expect(await ids({ format: 'eval' })).toEqual(['a', 'c']);
    // The raw rating and its scale stay on the record.
    const [a] = await build([docs[0]], { name: 'x', format: 'chat' });
    expect(a).toMatchObject({ signals: { rating: { value: 9, scale: { min: 0, max: 10 } } } });
    // 10/10 vs 5/10 is 5 vs 3 on the default scale: a margin of 3 pairs nothing, 2 pairs them.
    const group = [
      example('p', 'q', 'best', [{ rating: 10, ...tenScale }]),
      example('r', 'q', 'worst', [{ rating: 5, ...tenScale }]),
    ];
    expect(await build(group, { name: 'x', format: 'preference', preference: { ratingMargin: 3 } })).toEqual(
      [],
    );
    expect(
      (await build(group, { name: 'x', format: 'preference', preference: { ratingMargin: 2 } })).map(
        (r) => r.id,
      ),
    ).toEqual(['p>r']);
  });

  it('preference: keeps the first PREFERENCE_GROUP_CAP rated or corrected examples of an input', async () => {
    const docs = [example('000-unrated', 'q', 'o', [{ thumbs: 'up' }])];
    for (let i = 0; i <= PREFERENCE_GROUP_CAP; i++) {
      docs.push(example(`r${String(i).padStart(5, '0')}`, 'q', `out ${i}`, [{ rating: i % 2 ? 5 : 1 }]));
    }
    const pairs = (await build(docs, { name: 'p', format: 'preference' })) as PreferenceRecord[];
    expect(pairs).toHaveLength(PREFERENCE_GROUP_CAP / 2);
    const used = new Set(pairs.flatMap((p) => p.examples));
    expect(used.has(`r${String(PREFERENCE_GROUP_CAP).padStart(5, '0')}`)).toBe(false);
    expect(used.has('r00000')).toBe(true);
  });

  it('redact: pairs and dedupe compare the redacted texts; userId is redacted too', async () => {
    const mask = (s: string) => s.replace(/\S+@\S+/g, '[email]');
    const pairDocs = [
      example('a', 'q', 'write to a@b.co', [{ rating: 5 }]),
      example('b', 'q', 'write to c@d.co', [{ rating: 1 }]),
    ];
    expect(await build(pairDocs, { name: 'p', format: 'preference' }, mask)).toHaveLength(1);
    expect(await build(pairDocs, { name: 'p', format: 'preference', redact: true }, mask)).toEqual([]);
    const chatDocs = [
      example('x', 'I am x@y.co', 'hi'),
      example('y', 'hello', 'hi'),
      example('z', 'I am z@w.co', 'hi'),
    ];
    chatDocs[0].generation!.userId = 'x@y.co';
    const plain = await build(chatDocs, { name: 'c', format: 'chat', dedupe: true }, mask);
    expect(plain).toHaveLength(3);
    const masked = await build(chatDocs, { name: 'c', format: 'chat', dedupe: true, redact: true }, mask);
    expect(masked.map((r) => r.id).sort()).toEqual(['y', expect.any(String)]);
    expect(masked.find((r) => r.id === 'x' || r.id === 'z')).toMatchObject({ input: 'I am [email]' });
    const [x] = await build([chatDocs[0]], { name: 'c', format: 'chat', redact: true }, mask);
    expect(x).toMatchObject({ userId: '[email]' });
  });
});
