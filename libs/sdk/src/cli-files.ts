/**
 * The files the CLI sends: read as JSON (`.json`) or YAML (`.yaml`, `.yml`), then checked for the
 * shape each command needs, so a bad file fails with its name, the place and what to fix before any
 * request. The fields below are what the CLI checks; the service checks the rest (name patterns,
 * unknown fields inside them, bounds) and its 400 names the field.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { LlmopsValidationError } from './errors';
import type { paths as AssignmentPaths } from './generated/assignment';
import type { paths as DatasetsPaths } from './generated/datasets';
import type { paths as RegistryPaths } from './generated/registry';

type JsonBody<Op> = Op extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** `POST /v1/prompts/{name}/versions`'s body. */
export type RegisterPromptBody = JsonBody<RegistryPaths['/v1/prompts/{name}/versions']['post']>;
/** `POST /v1/experiments`'s body. */
export type CreateExperimentBody = JsonBody<AssignmentPaths['/v1/experiments']['post']>;
/** `POST /v1/datasets`'s body. */
export type CreateDatasetBody = JsonBody<DatasetsPaths['/v1/datasets']['post']>;

/** A prompt file: the registry's body (`spec`, optional `metadata`) with the prompt's `name`. */
export interface PromptFile {
  name: string;
  body: RegisterPromptBody;
}

const invalid = (field: string, message: string): LlmopsValidationError =>
  new LlmopsValidationError(field, message, 'invalid_file');

/** Line and column (from 1) of a character offset. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** The document of a `.json`, `.yaml` or `.yml` file. */
export function readDocument(file: string): unknown {
  const ext = extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext)) throw invalid(file, 'expected a .json, .yaml or .yml file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (ext === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      const message = (err as Error).message;
      const at = /position (\d+)/.exec(message);
      throw invalid(
        file,
        `invalid JSON${at ? ` at ${lineColumn(text, Number(at[1]))}` : ''}: ${message.replace(/ in JSON at position \d+.*$/, '')}`,
      );
    }
  }
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    if (err instanceof YAMLParseError) throw invalid(file, `invalid YAML: ${err.message.split('\n')[0]}`);
    throw err;
  }
}

type Doc = Record<string, unknown>;

function object(field: string, value: unknown): Doc {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(field, 'expected an object');
  return value as Doc;
}

function onlyKeys(field: string, doc: Doc, allowed: readonly string[]): void {
  const unknown = Object.keys(doc).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw invalid(field, `unknown field ${unknown.join(', ')} (expected ${allowed.join(', ')})`);
}

function text(field: string, value: unknown, hint = ''): string {
  if (typeof value !== 'string' || value === '')
    throw invalid(field, `expected a non-empty string${typeof value === 'number' ? hint : ''}`);
  return value;
}

/** YAML reads `ref: 1` as a number; a ref is text. */
const QUOTE_HINT = ' (quote it in YAML, e.g. "1")';

/**
 * A prompt file: `{ name, spec: { model, template | messages, ... }, metadata? }`; `name` may come
 * from `--name` instead (which wins).
 */
export function promptFile(file: string, doc: unknown, name?: string): PromptFile {
  const d = object(file, doc);
  onlyKeys(file, d, ['name', 'spec', 'metadata']);
  const promptName = text(`${file}: name`, name ?? d.name);
  const spec = object(`${file}: spec`, d.spec);
  text(`${file}: spec.model`, spec.model);
  if ((spec.template === undefined) === (spec.messages === undefined))
    throw invalid(`${file}: spec`, 'expected either template or messages');
  if (spec.template !== undefined) text(`${file}: spec.template`, spec.template);
  if (spec.messages !== undefined) {
    if (!Array.isArray(spec.messages) || spec.messages.length === 0)
      throw invalid(`${file}: spec.messages`, 'expected a non-empty list of { role, content }');
    spec.messages.forEach((m, i) => {
      const message = object(`${file}: spec.messages[${i}]`, m);
      if (!['system', 'user', 'assistant'].includes(message.role as string))
        throw invalid(`${file}: spec.messages[${i}].role`, 'expected system, user or assistant');
      if (typeof message.content !== 'string')
        throw invalid(`${file}: spec.messages[${i}].content`, 'expected a string');
    });
  }
  if (d.metadata !== undefined) object(`${file}: metadata`, d.metadata);
  return {
    name: promptName,
    body: { spec, ...(d.metadata !== undefined ? { metadata: d.metadata } : {}) } as RegisterPromptBody,
  };
}

/** An experiment file: `POST /v1/experiments`'s body (`key`, `arms` with `name`, `weight`, `prompt`). */
export function experimentFile(file: string, doc: unknown): CreateExperimentBody {
  const d = object(file, doc);
  text(`${file}: key`, d.key);
  if (!Array.isArray(d.arms) || d.arms.length < 2)
    throw invalid(`${file}: arms`, 'expected a list of at least two arms');
  d.arms.forEach((a, i) => {
    const arm = object(`${file}: arms[${i}]`, a);
    text(`${file}: arms[${i}].name`, arm.name, QUOTE_HINT);
    if (typeof arm.weight !== 'number' || !Number.isFinite(arm.weight) || arm.weight < 0)
      throw invalid(`${file}: arms[${i}].weight`, 'expected a number >= 0');
    const prompt = object(`${file}: arms[${i}].prompt`, arm.prompt);
    text(`${file}: arms[${i}].prompt.name`, prompt.name);
    text(`${file}: arms[${i}].prompt.ref`, prompt.ref, QUOTE_HINT);
  });
  return d as CreateExperimentBody;
}

/** A dataset file: `POST /v1/datasets`'s body (`name`, `format`, optional `filter`, `split`, ...). */
export function datasetFile(file: string, doc: unknown): CreateDatasetBody {
  const d = object(file, doc);
  text(`${file}: name`, d.name);
  if (!['chat', 'preference', 'eval'].includes(d.format as string))
    throw invalid(`${file}: format`, 'expected chat, preference or eval');
  return d as CreateDatasetBody;
}
