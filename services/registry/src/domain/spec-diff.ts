/**
 * Structured diff of two specs: every changed leaf with its path, the top-level fields that
 * changed, and line diffs of the texts people actually read (template, system prompt, messages).
 *
 * Line diffs are Myers diffs (`line-diff.ts`), whose cost grows with (lines x changed lines). They
 * are bounded: texts over `maxLines` lines are refused before diffing, and the diff gives up past
 * `maxChangedLines` changed lines or after `timeoutMs`; it yields to the event loop between slices
 * of work, so even the largest allowed diff never blocks other requests.
 */
import type { JsonValue } from '@llmops/contracts';
import type { PromptMessage, PromptSpec } from './prompt-spec';
import { diffLineTokensAsync, lineTokens, unifiedDiff } from './line-diff';

export interface FieldChange {
  /** e.g. `model`, `params.temperature`, `messages[1].content`, `params["top-k"]`. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from?: JsonValue;
  to?: JsonValue;
}

export interface LineDiffPart {
  op: 'equal' | 'added' | 'removed';
  lines: string[];
}

export interface TextDiff {
  parts: LineDiffPart[];
  /** The same diff in unified format (as `diff -u` / git print it). */
  unified: string;
}

export interface SpecDiff {
  identical: boolean;
  /** Top-level spec fields that differ, sorted. */
  changedFields: string[];
  changes: FieldChange[];
  text: { template?: TextDiff; system?: TextDiff; messages?: TextDiff };
}

type JsonObject = { [key: string]: JsonValue };

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function childPath(parent: string, key: string): string {
  if (IDENT.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function equalJson(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => equalJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equalJson(a[k], b[k]));
  }
  return false;
}

function walk(path: string, a: JsonValue | undefined, b: JsonValue | undefined, out: FieldChange[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) {
    out.push({ path, kind: 'added', to: b });
    return;
  }
  if (b === undefined) {
    out.push({ path, kind: 'removed', from: a });
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) walk(childPath(path, k), a[k], b[k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(`${path}[${i}]`, a[i], b[i], out);
    return;
  }
  if (!equalJson(a, b)) out.push({ path, kind: 'changed', from: a, to: b });
}

export interface DiffLimits {
  /** Most lines of one diffed text (each side). */
  maxLines: number;
  /** The line diff gives up when the texts differ in more lines than this. */
  maxChangedLines: number;
  /** Budget for all line diffs of one spec diff. */
  timeoutMs: number;
}

export const UNBOUNDED_DIFF: DiffLimits = {
  maxLines: Number.POSITIVE_INFINITY,
  maxChangedLines: Number.POSITIVE_INFINITY,
  timeoutMs: Number.POSITIVE_INFINITY,
};

export type DiffedText = 'template' | 'system' | 'messages';

/** A diffed text has more lines than `maxLines`. */
export class TextTooLargeToDiffError extends Error {
  constructor(
    readonly field: DiffedText,
    readonly lines: number,
    readonly maxLines: number,
  ) {
    super(`${field} has ${lines} lines; at most ${maxLines} are diffed`);
    this.name = 'TextTooLargeToDiffError';
  }
}

/** The line diff of `field` gave up: too many changed lines, or out of time. */
export class TextTooDifferentToDiffError extends Error {
  constructor(
    readonly field: DiffedText,
    readonly limits: DiffLimits,
  ) {
    super(
      `${field} differs in more than ${limits.maxChangedLines} lines or took over ${limits.timeoutMs} ms`,
    );
    this.name = 'TextTooDifferentToDiffError';
  }
}

async function textDiff(
  field: DiffedText,
  a: string,
  b: string,
  labels: { from: string; to: string },
  limits: DiffLimits,
  deadline: number,
): Promise<TextDiff> {
  const from = lineTokens(a);
  const to = lineTokens(b);
  for (const tokens of [from, to]) {
    if (tokens.length > limits.maxLines)
      throw new TextTooLargeToDiffError(field, tokens.length, limits.maxLines);
  }
  const runs = await diffLineTokensAsync(from, to, limits.maxChangedLines, deadline);
  if (runs === undefined) throw new TextTooDifferentToDiffError(field, limits);
  const parts = runs.map((r): LineDiffPart => ({
    op: r.op,
    lines: r.tokens.map((t) => (t.endsWith('\n') ? t.slice(0, -1) : t)),
  }));
  return { parts, unified: unifiedDiff(runs, labels.from, labels.to, 3) };
}

function messagesText(messages: PromptMessage[] | undefined): string {
  return (messages ?? []).map((m) => `[${m.role}]\n${m.content}`).join('\n');
}

export async function diffSpecs(
  from: PromptSpec,
  to: PromptSpec,
  labels = { from: 'from', to: 'to' },
  limits: DiffLimits = UNBOUNDED_DIFF,
): Promise<SpecDiff> {
  const a = from as unknown as JsonObject;
  const b = to as unknown as JsonObject;
  const changes: FieldChange[] = [];
  walk('', a, b, changes);
  const changedFields = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => a[k] === undefined || b[k] === undefined || !equalJson(a[k], b[k]))
    .sort();
  const text: SpecDiff['text'] = {};
  const changed = new Set(changedFields);
  const deadline = Date.now() + limits.timeoutMs;
  if (changed.has('template') && (from.template !== undefined || to.template !== undefined)) {
    text.template = await textDiff(
      'template',
      from.template ?? '',
      to.template ?? '',
      labels,
      limits,
      deadline,
    );
  }
  if (changed.has('system'))
    text.system = await textDiff('system', from.system ?? '', to.system ?? '', labels, limits, deadline);
  if (changed.has('messages')) {
    text.messages = await textDiff(
      'messages',
      messagesText(from.messages),
      messagesText(to.messages),
      labels,
      limits,
      deadline,
    );
  }
  return { identical: changes.length === 0, changedFields, changes, text };
}
