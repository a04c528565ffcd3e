/**
 * Structured diff of two specs: every changed leaf with its path, the top-level fields that
 * changed, and line diffs of the texts people actually read (template, system prompt, messages).
 */
import type { JsonValue } from '@llmops/contracts';
import { createTwoFilesPatch, diffLines } from 'diff';
import type { PromptMessage, PromptSpec } from '../dto/prompt-spec';

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

function splitLines(value: string): string[] {
  const lines = value.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function textDiff(a: string, b: string, fromLabel: string, toLabel: string): TextDiff {
  const parts = diffLines(a, b).map((c): LineDiffPart => ({
    op: c.added ? 'added' : c.removed ? 'removed' : 'equal',
    lines: splitLines(c.value),
  }));
  return {
    parts,
    unified: createTwoFilesPatch(fromLabel, toLabel, a, b, undefined, undefined, { context: 3 }),
  };
}

function messagesText(messages: PromptMessage[] | undefined): string {
  return (messages ?? []).map((m) => `[${m.role}]\n${m.content}`).join('\n');
}

export function diffSpecs(from: PromptSpec, to: PromptSpec, labels = { from: 'from', to: 'to' }): SpecDiff {
  const a = from as unknown as JsonObject;
  const b = to as unknown as JsonObject;
  const changes: FieldChange[] = [];
  walk('', a, b, changes);
  const changedFields = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => a[k] === undefined || b[k] === undefined || !equalJson(a[k], b[k]))
    .sort();
  const text: SpecDiff['text'] = {};
  const changed = new Set(changedFields);
  if (changed.has('template') && (from.template !== undefined || to.template !== undefined)) {
    text.template = textDiff(from.template ?? '', to.template ?? '', labels.from, labels.to);
  }
  if (changed.has('system'))
    text.system = textDiff(from.system ?? '', to.system ?? '', labels.from, labels.to);
  if (changed.has('messages')) {
    text.messages = textDiff(messagesText(from.messages), messagesText(to.messages), labels.from, labels.to);
  }
  return { identical: changes.length === 0, changedFields, changes, text };
}
