/**
 * A snapshot's records from the examples that match a dataset, pure: examples in, records out, in
 * snapshot order. The examples arrive sorted by (input hash, id) from the database part of the
 * filter (see `exampleQuery`); the feedback part, dedupe, preference pairs, limit, split and
 * redaction happen here, one example (or one input's group, for pairs) at a time.
 */
import { canonicalize, sha256Hex } from '@llmops/hashing';
import type { mongo } from 'mongoose';
import type { DatasetDefinition, DatasetFilter } from '../datasets/dto/dataset-definition.request';
import type { ExampleDoc, ExampleGeneration, ExampleInput } from './example';
import { deriveSignals, latestRevisions, type RatingSignal, type Signals } from './signals';
import { compareText, DAY_MS, defined } from './util';

/** The split every record not in a named split falls in (so no split may be named so). */
export const TRAIN_SPLIT = 'train';
/** The defaults of the format options. */
export const DEFAULT_RATING_MARGIN = 1;
export const DEFAULT_EVAL_MIN_RATING = 4;
/**
 * Most rated or corrected examples of one input a preference build pairs: the first ones in
 * snapshot order (id order); the input's other examples are left out of its pairs.
 */
export const PREFERENCE_GROUP_CAP = 10_000;

/**
 * A rating on the default 1..5 scale (`1 + 4 * (r - min) / (max - min)`), so that ratings given on
 * different scales compare: rating filters, `eval.minRating` and `preference.ratingMargin` use it.
 */
export function normalizedRating(rating: RatingSignal | undefined): number | undefined {
  if (!rating) return undefined;
  const { min, max } = rating.scale ?? { min: 1, max: 5 };
  return max > min ? 1 + (4 * (rating.value - min)) / (max - min) : rating.value;
}

/** A chat or eval record: the generation, its correction and its current signals. */
export interface ChatRecord extends Pick<
  ExampleGeneration,
  | 'output'
  | 'prompt'
  | 'model'
  | 'experiment'
  | 'arm'
  | 'userId'
  | 'latencyMs'
  | 'usage'
  | 'costUsd'
  | 'timestamp'
> {
  id: string;
  split: string;
  input: ExampleInput;
  correction?: string;
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
  prompt?: ExampleGeneration['prompt'];
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
  const rating = normalizedRating(signals.rating);
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
  const redact = definition.redact && options.redact ? options.redact : undefined;
  const redactInput = (i: ExampleInput): ExampleInput =>
    !redact ? i : typeof i === 'string' ? redact(i) : i.map((m) => ({ ...m, content: redact(m.content) }));
  // Dedupe compares inputs as the records carry them (redacted). Examples arrive sorted by the
  // hash of the stored input, so equal inputs are adjacent, except inputs that redaction changed:
  // their keys are remembered.
  let lastKey: string | undefined;
  const redactedKeys = new Set<string>();
  const duplicate = (hash: string, input: ExampleInput): boolean => {
    if (!definition.dedupe) return false;
    const key = redact ? sha256Hex(canonicalize(input)) : hash;
    if (key === lastKey || redactedKeys.has(key)) return true;
    lastKey = key;
    if (key !== hash) redactedKeys.add(key);
    return false;
  };
  let emitted = 0;

  if (definition.format === 'preference') {
    const margin = definition.preference?.ratingMargin ?? DEFAULT_RATING_MARGIN;
    let group: PairGroup | undefined;
    const flush = function* (g: PairGroup) {
      for (const record of preferencePairs(g, definition, margin)) {
        // One record per input with dedupe: the input's first pair.
        if (duplicate(g.hash, record.input)) return;
        emitted++;
        yield record;
        if (emitted >= limit) return;
      }
    };
    for await (const doc of examples) {
      const signals = deriveSignals(doc);
      if (!matches(doc, signals, definition.filter)) continue;
      const hash = doc.generation.inputHash;
      if (group && group.hash !== hash) {
        yield* flush(group);
        if (emitted >= limit) return;
        group = undefined;
      }
      group ??= { hash, input: redactInput(doc.generation.input), members: [] };
      const rating = normalizedRating(signals.rating);
      const correction = signals.correction?.value;
      if (
        (rating === undefined && correction === undefined) ||
        group.members.length >= PREFERENCE_GROUP_CAP
      ) {
        continue;
      }
      const g = doc.generation;
      group.members.push(
        defined({
          _id: doc._id,
          id: doc.requestId,
          rating,
          output: redact ? redact(g.output) : g.output,
          correction: correction !== undefined && redact ? redact(correction) : correction,
          prompt: g.prompt ?? undefined,
          model: g.model,
        }),
      );
    }
    if (group) yield* flush(group);
    return;
  }

  const minRating = definition.eval?.minRating ?? DEFAULT_EVAL_MIN_RATING;
  const redactRecord = redact ? redactor(redact, redactInput) : (r: ChatRecord) => r;
  for await (const doc of examples) {
    const signals = deriveSignals(doc);
    if (!matches(doc, signals, definition.filter)) continue;
    if (definition.format === 'eval' && !hasExpected(signals, minRating)) continue;
    const record = redactRecord(chatRecord(doc, signals, definition));
    if (duplicate(doc.generation.inputHash, record.input)) continue;
    emitted++;
    yield record;
    if (emitted >= limit) return;
  }
}

/** An eval case needs an expected answer: a correction, or an output rated at least `minRating`. */
function hasExpected(signals: Signals, minRating: number): boolean {
  return signals.correction !== undefined || (normalizedRating(signals.rating) ?? -Infinity) >= minRating;
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

/** What pairing keeps of one input's rated or corrected examples (texts already redacted). */
interface PairMember {
  _id: string;
  id: string;
  /** On the default 1..5 scale. */
  rating?: number;
  output: string;
  correction?: string;
  prompt?: { name: string; hash: string };
  model: string;
}

interface PairGroup {
  hash: string;
  input: ExampleInput;
  /** At most PREFERENCE_GROUP_CAP, in id order. */
  members: PairMember[];
}

/**
 * The pairs of one input's examples (sorted by id): first each correction over its output, then
 * rating pairs: rated examples by (rating desc, id asc), the i-th best with the i-th worst while
 * their ratings differ by at least `margin`. A pair whose two texts are equal (once redacted)
 * teaches nothing and is left out.
 */
function preferencePairs(
  group: PairGroup,
  definition: DatasetDefinition,
  margin: number,
): PreferenceRecord[] {
  const pairs: PreferenceRecord[] = [];
  const pair = (
    kind: PreferenceRecord['kind'],
    id: string,
    best: PairMember,
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
        input: group.input,
        preferred,
        rejected,
        examples,
        prompt: best.prompt,
        model: best.model,
      }),
    );
  };
  for (const member of group.members) {
    if (member.correction !== undefined) {
      pair('correction', member.id, member, member.correction, member.output, [member.id]);
    }
  }
  const rated = group.members
    .filter((m): m is PairMember & { rating: number } => m.rating !== undefined)
    .sort((a, b) => b.rating - a.rating || compareText(a.id, b.id));
  for (let i = 0; i < Math.floor(rated.length / 2); i++) {
    const best = rated[i];
    const worst = rated[rated.length - 1 - i];
    if (best.rating - worst.rating < margin) break;
    const ids = [best.id, worst.id];
    pair('rating', ids.join('>'), best, best.output, worst.output, ids);
  }
  return pairs;
}

/** Applies `redact` to every text of a chat or eval record (input, output, correction, comment, userId). */
function redactor(redact: (text: string) => string, input: (i: ExampleInput) => ExampleInput) {
  return (record: ChatRecord): ChatRecord => {
    const s = record.signals;
    return defined({
      ...record,
      input: input(record.input),
      output: redact(record.output),
      correction: record.correction === undefined ? undefined : redact(record.correction),
      userId: record.userId === undefined ? undefined : redact(record.userId),
      signals: defined({
        ...s,
        comment: s.comment && { ...s.comment, value: redact(s.comment.value) },
        correction: s.correction && { ...s.correction, value: redact(s.correction.value) },
      }),
    });
  };
}
