/**
 * A snapshot's records from the examples that match a dataset, pure: examples in, records out, in
 * snapshot order. The examples arrive sorted by (input hash, id) from the database part of the
 * filter (see `exampleQuery`); the feedback part, dedupe, preference pairs, limit, split and
 * redaction happen here, one example (or one input's group, for pairs) at a time.
 */
import { sha256Hex } from '@llmops/hashing';
import type { mongo } from 'mongoose';
import type { DatasetDefinition, DatasetFilter } from '../datasets/dto/dataset-definition.request';
import type { ExampleDoc, ExampleGeneration, ExampleInput } from './example';
import { deriveSignals, latestRevisions, type Signals } from './signals';

/** The split every record not in a named split falls in (so no split may be named so). */
export const TRAIN_SPLIT = 'train';
/** The defaults of the format options. */
export const DEFAULT_RATING_MARGIN = 1;
export const DEFAULT_EVAL_MIN_RATING = 4;

/** A chat or eval record: the generation, its correction and its current signals. */
export interface ChatRecord {
  id: string;
  split: string;
  input: ExampleInput;
  output: string;
  correction?: string;
  prompt?: { name: string; hash: string };
  model: string;
  experiment?: string;
  arm?: string;
  userId?: string;
  latencyMs: number;
  usage?: { promptTokens: number; completionTokens: number };
  costUsd?: number;
  timestamp: string;
  signals: Signals;
}

/** A preference pair: `preferred` over `rejected` for one input. */
export interface PreferenceRecord {
  id: string;
  split: string;
  kind: 'correction' | 'rating';
  input: ExampleInput;
  preferred: string;
  rejected: string;
  /** Request ids of the examples the pair comes from. */
  examples: string[];
  prompt?: { name: string; hash: string };
  model: string;
}

export type SnapshotRecord = ChatRecord | PreferenceRecord;

/** An example with a generation and an input: the only kind a snapshot reads. */
type Usable = ExampleDoc & { generation: ExampleGeneration & { input: ExampleInput; inputHash: string } };

export interface BuildOptions {
  /** The prompt hash `filter.prompt.alias` points at (resolved by the caller). */
  aliasHash?: string;
  /** Applied to every text of every record when the dataset has `redact`. */
  redact?: (text: string) => string;
}

/**
 * The split of an example: the first 52 bits of sha256(example id) as a number in [0, 1), placed on
 * the cumulative fractions of the named splits in name order; the rest is `train`. An example keeps
 * its split in every snapshot of a dataset whatever else arrives.
 */
export function splitOf(exampleId: string, split: Record<string, number> | undefined): string {
  if (!split) return TRAIN_SPLIT;
  const x = parseInt(sha256Hex(exampleId).slice(0, 13), 16) / 2 ** 52;
  let upTo = 0;
  for (const name of Object.keys(split).sort()) {
    upTo += split[name];
    if (x < upTo) return name;
  }
  return TRAIN_SPLIT;
}

const DAY_MS = 86_400_000;

/**
 * The database part of a filter. Timestamps are stored as sent (RFC 3339, any offset), so the time
 * range is a string range on the dates, widened by a day each side (no offset reaches a day), and
 * exact in `matches`.
 */
export function exampleQuery(
  project: string,
  filter: DatasetFilter = {},
  options: BuildOptions = {},
): mongo.Filter<ExampleDoc> {
  const query: Record<string, unknown> = {
    project,
    'generation.inputHash': { $exists: true },
    'generation.input': { $exists: true },
  };
  const prompt = filter.prompt;
  if (prompt?.name !== undefined) query['generation.prompt.name'] = prompt.name;
  const hash = prompt?.alias !== undefined ? options.aliasHash : prompt?.hash;
  if (hash !== undefined) query['generation.prompt.hash'] = hash;
  if (filter.experiment !== undefined) query['generation.experiment'] = filter.experiment;
  if (filter.arm !== undefined) query['generation.arm'] = filter.arm;
  if (filter.model !== undefined) query['generation.model'] = filter.model;
  const time: Record<string, string> = {};
  if (filter.from !== undefined) time.$gte = isoDay(Date.parse(filter.from) - DAY_MS);
  if (filter.to !== undefined) time.$lt = isoDay(Date.parse(filter.to) + 2 * DAY_MS);
  if (Object.keys(time).length > 0) query['generation.timestamp'] = time;
  return query as mongo.Filter<ExampleDoc>;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whether an example (with its current signals) passes the whole filter. */
export function matches(doc: ExampleDoc, signals: Signals, filter: DatasetFilter = {}): doc is Usable {
  const g = doc.generation;
  if (!g || g.input == null || g.inputHash == null) return false;
  const at = Date.parse(g.timestamp);
  if (filter.from !== undefined && !(at >= Date.parse(filter.from))) return false;
  if (filter.to !== undefined && !(at < Date.parse(filter.to))) return false;
  const rating = signals.rating?.value;
  if (filter.minRating !== undefined && !(rating !== undefined && rating >= filter.minRating)) return false;
  if (filter.maxRating !== undefined && !(rating !== undefined && rating <= filter.maxRating)) return false;
  if (filter.thumbs !== undefined && signals.thumbs?.value !== filter.thumbs) return false;
  if (filter.hasCorrection !== undefined && (signals.correction !== undefined) !== filter.hasCorrection) {
    return false;
  }
  if (filter.source !== undefined && !latestRevisions(doc).some((r) => r.source === filter.source)) {
    return false;
  }
  for (const [name, { min, max }] of Object.entries(filter.scores ?? {})) {
    const score = signals.scores[name]?.value;
    if (score === undefined) return false;
    if ((min !== undefined && score < min) || (max !== undefined && score > max)) return false;
  }
  return true;
}

/**
 * The dataset's records from its candidate examples (sorted by input hash, then id), in snapshot
 * order. Stops reading once `limit` records are out (the caller's cursor is then closed).
 */
export async function* buildRecords(
  examples: AsyncIterable<ExampleDoc>,
  definition: DatasetDefinition,
  options: BuildOptions = {},
): AsyncGenerator<SnapshotRecord> {
  const limit = definition.limit ?? Infinity;
  if (limit <= 0) return;
  const redact = definition.redact && options.redact ? redactor(options.redact) : <T>(r: T) => r;
  let emitted = 0;
  let lastHash: string | undefined;
  const out = function* (records: Iterable<SnapshotRecord>, hash: string) {
    for (const record of records) {
      if (definition.dedupe && hash === lastHash) return;
      lastHash = hash;
      emitted++;
      yield redact(record);
      if (emitted >= limit) return;
    }
  };

  if (definition.format === 'preference') {
    const margin = definition.preference?.ratingMargin ?? DEFAULT_RATING_MARGIN;
    let group: Array<{ doc: Usable; signals: Signals }> = [];
    for await (const doc of examples) {
      const signals = deriveSignals(doc);
      if (!matches(doc, signals, definition.filter)) continue;
      if (group.length > 0 && group[0].doc.generation.inputHash !== doc.generation.inputHash) {
        yield* out(preferencePairs(group, definition, margin), group[0].doc.generation.inputHash);
        if (emitted >= limit) return;
        group = [];
      }
      group.push({ doc, signals });
    }
    if (group.length > 0) {
      yield* out(preferencePairs(group, definition, margin), group[0].doc.generation.inputHash);
    }
    return;
  }

  const minRating = definition.eval?.minRating ?? DEFAULT_EVAL_MIN_RATING;
  for await (const doc of examples) {
    const signals = deriveSignals(doc);
    if (!matches(doc, signals, definition.filter)) continue;
    if (definition.format === 'eval' && !hasExpected(signals, minRating)) continue;
    yield* out([chatRecord(doc, signals, definition)], doc.generation.inputHash);
    if (emitted >= limit) return;
  }
}

/** An eval case needs an expected answer: a correction, or an output rated at least `minRating`. */
function hasExpected(signals: Signals, minRating: number): boolean {
  return signals.correction !== undefined || (signals.rating?.value ?? -Infinity) >= minRating;
}

function chatRecord(doc: Usable, signals: Signals, definition: DatasetDefinition): ChatRecord {
  const g = doc.generation;
  return defined({
    id: doc.requestId,
    split: splitOf(doc._id, definition.split),
    input: g.input,
    output: g.output,
    correction: signals.correction?.value,
    prompt: g.prompt ?? undefined,
    model: g.model,
    experiment: g.experiment ?? undefined,
    arm: g.arm ?? undefined,
    userId: g.userId ?? undefined,
    latencyMs: g.latencyMs,
    usage: g.usage ?? undefined,
    costUsd: g.costUsd ?? undefined,
    timestamp: g.timestamp,
    signals,
  });
}

/**
 * The pairs of one input's examples (sorted by id): first each correction over its output, then
 * rating pairs: rated examples by (rating desc, id asc), the i-th best with the i-th worst while
 * their ratings differ by at least `margin`. A pair whose two texts are equal teaches nothing and
 * is left out.
 */
function preferencePairs(
  group: Array<{ doc: Usable; signals: Signals }>,
  definition: DatasetDefinition,
  margin: number,
): PreferenceRecord[] {
  const pairs: PreferenceRecord[] = [];
  const pair = (
    kind: PreferenceRecord['kind'],
    id: string,
    best: Usable,
    preferred: string,
    rejected: string,
    examples: string[],
  ) => {
    if (preferred === rejected) return;
    pairs.push(
      defined({
        id,
        split: splitOf(best._id, definition.split),
        kind,
        input: best.generation.input,
        preferred,
        rejected,
        examples,
        prompt: best.generation.prompt ?? undefined,
        model: best.generation.model,
      }),
    );
  };
  for (const { doc, signals } of group) {
    const correction = signals.correction?.value;
    if (correction !== undefined) {
      pair('correction', doc.requestId, doc, correction, doc.generation.output, [doc.requestId]);
    }
  }
  const rated = group
    .flatMap((e) => (e.signals.rating ? [{ doc: e.doc, rating: e.signals.rating.value }] : []))
    .sort((a, b) => b.rating - a.rating || compareText(a.doc.requestId, b.doc.requestId));
  for (let i = 0; i < Math.floor(rated.length / 2); i++) {
    const best = rated[i];
    const worst = rated[rated.length - 1 - i];
    if (best.rating - worst.rating < margin) break;
    const ids = [best.doc.requestId, worst.doc.requestId];
    pair('rating', ids.join('>'), best.doc, best.doc.generation.output, worst.doc.generation.output, ids);
  }
  return pairs;
}

/** Applies `redact` to every text of a record (input, output, correction, pair texts, comment). */
function redactor(redact: (text: string) => string) {
  const input = (i: ExampleInput): ExampleInput =>
    typeof i === 'string' ? redact(i) : i.map((m) => ({ ...m, content: redact(m.content) }));
  return (record: SnapshotRecord): SnapshotRecord => {
    if ('kind' in record) {
      return {
        ...record,
        input: input(record.input),
        preferred: redact(record.preferred),
        rejected: redact(record.rejected),
      };
    }
    const s = record.signals;
    return defined({
      ...record,
      input: input(record.input),
      output: redact(record.output),
      correction: record.correction === undefined ? undefined : redact(record.correction),
      signals: defined({
        ...s,
        comment: s.comment && { ...s.comment, value: redact(s.comment.value) },
        correction: s.correction && { ...s.correction, value: redact(s.correction.value) },
      }),
    });
  };
}

/** The object without its undefined members (stored records hold no nulls for absent fields). */
function defined<T extends object>(o: T): T {
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] === undefined) delete o[key];
  return o;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
