#!/usr/bin/env node
/**
 * `llmops`: the platform from a terminal or a CI job, built on the SDK. Prompts (push a file, get,
 * diff, promote to an alias), experiments (create from a file, start, pause, stop, the results
 * table), datasets (create from a file, snapshot, download a split as JSONL).
 *
 * Every command prints text for people, or with `--json` the platform's answer as JSON. Exit codes:
 * 0 done; 1 the platform refused (its error code and message on stderr); 2 bad usage or a bad
 * file, found before any request; 3 the platform was unavailable (unreachable, timed out, or 429/503
 * after the SDK's retries).
 */
import { createWriteStream, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Readable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { version as PACKAGE_VERSION } from '../package.json';
import { LlmopsClient } from './client';
import { type DownloadFormat, PlatformApi, type PromptDiff, type ResultsWindow } from './cli-api';
import { datasetFile, experimentFile, promptFile, readDocument } from './cli-files';
import { LlmopsError, LlmopsUnavailableError, LlmopsValidationError } from './errors';
import { SERVICES, type ServiceName } from './options';
import { renderResults } from './results-table';
import { Transport } from './transport';

export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 3 } as const;

/** Where the CLI writes and what it reads of its process (replaced in tests). */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
}

interface GlobalOptions {
  json?: boolean;
  url?: string[];
  apiKey?: string;
}

/** Attempts per request: the SDK's backoff, bounded for an interactive command. */
const MAX_ATTEMPTS = 3;

/** `--url http://host` (every service) or `--url registry=http://host:3001` (one), repeatable. */
export function serviceUrls(values: readonly string[]): Partial<Record<ServiceName, string>> {
  const urls: Partial<Record<ServiceName, string>> = {};
  const one: Partial<Record<ServiceName, string>> = {};
  for (const value of values) {
    const named = /^([a-z]+)=(.*)$/.exec(value);
    if (!named) {
      for (const s of SERVICES) urls[s] = value;
      continue;
    }
    if (!(SERVICES as readonly string[]).includes(named[1]))
      throw new LlmopsValidationError(
        '--url',
        `unknown service ${named[1]} (expected ${SERVICES.join(', ')})`,
      );
    one[named[1] as ServiceName] = named[2];
  }
  return { ...urls, ...one };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const short = (hash: string | null | undefined): string => (hash ? hash.slice(0, 12) : '—');
const inline = (value: unknown): string => (value === undefined ? '—' : JSON.stringify(value));

function diffText(d: PromptDiff): string {
  const from = `v${d.from.version} (${d.from.shortHash})`;
  const to = `v${d.to.version} (${d.to.shortHash})`;
  if (d.identical) return `${d.name} ${from} and ${to} are identical`;
  const lines = [`${d.name} ${from} -> ${to}: ${d.changedFields.join(', ')} changed`];
  const texts = Object.entries(d.text).filter(([, diff]) => diff !== undefined);
  for (const c of d.changes) {
    if (texts.some(([t]) => c.path === t || c.path.startsWith(`${t}[`) || c.path.startsWith(`${t}.`)))
      continue;
    const change =
      c.kind === 'added'
        ? `added ${inline(c.to)}`
        : c.kind === 'removed'
          ? `removed ${inline(c.from)}`
          : `${inline(c.from)} -> ${inline(c.to)}`;
    lines.push(`  ${c.path}: ${change}`);
  }
  for (const [, diff] of texts) lines.push('', diff.unified.trimEnd());
  return lines.join('\n');
}

/** Counts the lines of a JSONL stream as it passes. */
function lineCounter(): Transform & { lines: number } {
  const counter = Object.assign(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        for (const byte of chunk) if (byte === 10) counter.lines++;
        done(null, chunk);
      },
    }),
    { lines: 0 },
  );
  return counter;
}

/** The `llmops` program; `run` parses and executes it. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('llmops');
  const write = (text: string) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const globals = () => program.opts<GlobalOptions>();
  /** Prints the answer as JSON with --json, else as the given text. */
  const print = (data: unknown, text: () => string) =>
    write(globals().json ? JSON.stringify(data, null, 2) : text());

  const connect = () => {
    const o = globals();
    const client = new LlmopsClient({
      ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}),
      urls: serviceUrls(o.url ?? []),
      retry: { maxAttempts: MAX_ATTEMPTS },
      env: io.env,
    });
    const transport = new Transport(client.options.retry, client.options.timeoutMs, { retried: 0 });
    return { client, api: new PlatformApi(client.options, transport) };
  };

  program
    .description('The LLMOps platform from the command line: prompts, experiments, datasets.')
    .version(PACKAGE_VERSION)
    .option('--json', "print the platform's answers as JSON")
    .option(
      '--url <url>',
      'base URL of every service (one host routing by path), or <service>=<url> for one ' +
        `(${SERVICES.join(', ')}); repeatable; default LLMOPS_<SERVICE>_URL, else the local stack`,
      collect,
    )
    .option('--api-key <key>', 'API key (default: LLMOPS_API_KEY)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  const prompts = program.command('prompts').description('prompt versions and aliases (registry)');
  prompts
    .command('push <file>')
    .description('register the prompt of a .json/.yaml file ({ name, spec, metadata? }); idempotent')
    .option('--name <name>', "prompt name (instead of the file's name field)")
    .action(async (file: string, opts: { name?: string }) => {
      const prompt = promptFile(file, readDocument(file), opts.name);
      const { api } = connect();
      const v = await api.registerPrompt(prompt.name, prompt.body);
      print(
        v,
        () => `${v.name} version ${v.version} ${v.hash} (${v.created ? 'registered' : 'already registered'})`,
      );
    });
  prompts
    .command('get <name> [ref]')
    .description(
      'a version by ref: version number, hash or 7+ hex prefix, alias (default: latest); as a pushable YAML file',
    )
    .action(async (name: string, ref = 'latest') => {
      const { client } = connect();
      const { version: v } = await client.prompts.get(name, ref);
      print(v, () => {
        const header = `# ${v.name} version ${v.version}, hash ${v.hash}, created ${v.createdAt}\n`;
        return (
          header + toYaml({ name: v.name, spec: v.spec, ...(v.metadata ? { metadata: v.metadata } : {}) })
        );
      });
    });
  prompts
    .command('diff <name> <from> <to>')
    .description('what changed between two versions: fields, then unified diffs of the texts')
    .action(async (name: string, from: string, to: string) => {
      const { api } = connect();
      const diff = await api.diffPrompt(name, from, to);
      print(diff, () => diffText(diff));
    });
  prompts
    .command('promote <name> <ref>')
    .description('point an alias (e.g. production) at a version')
    .requiredOption('--alias <alias>', 'the alias to move, e.g. production or staging')
    .option(
      '--expected <hash>',
      'compare-and-set: the full hash the alias points at now ("none": it must not exist yet)',
    )
    .option('--note <text>', 'why, kept in the alias history and the audit trail')
    .action(async (name: string, ref: string, opts: { alias: string; expected?: string; note?: string }) => {
      const { api } = connect();
      const expected =
        opts.expected === undefined ? {} : { expected: opts.expected === 'none' ? null : opts.expected };
      const move = await api.movePromptAlias(name, opts.alias, {
        ref,
        ...expected,
        ...(opts.note !== undefined ? { note: opts.note } : {}),
      });
      print(move, () =>
        move.moved
          ? `${move.name} ${move.alias} -> version ${move.version} ${short(move.hash)} (was ${short(move.previous)}; move ${move.rev})`
          : `${move.name} ${move.alias} already at version ${move.version} ${short(move.hash)}`,
      );
    });

  const experiments = program
    .command('experiments')
    .description('experiments (assignment) and results (analytics)');
  experiments
    .command('create <file>')
    .description("create an experiment (draft) from a .json/.yaml file: POST /v1/experiments's body")
    .action(async (file: string) => {
      const body = experimentFile(file, readDocument(file));
      const { api } = connect();
      const e = await api.createExperiment(body);
      print(e, () =>
        [
          `${e.key} created (${e.status}), control ${e.control}, traffic ${Number((e.trafficAllocation * 100).toFixed(2))}%`,
          ...e.arms.map(
            (a) =>
              `  ${a.name}  weight ${a.weight}  ${a.prompt.name}@${a.prompt.ref} ${short(a.prompt.hash)}`,
          ),
        ].join('\n'),
      );
    });
  for (const action of ['start', 'pause', 'stop'] as const) {
    experiments
      .command(`${action} <key>`)
      .description(`${action} an experiment`)
      .action(async (key: string) => {
        const { api } = connect();
        const e = await api.changeExperiment(key, action);
        print(e, () => `${e.key} ${e.status}, phase ${e.phase}`);
      });
  }
  experiments
    .command('results <key>')
    .description('per-arm results, comparisons with the control, SRM and a verdict')
    .addOption(
      new Option('--window <window>', "time window (default: the service's)").choices([
        '1h',
        '24h',
        '7d',
        'all',
      ]),
    )
    .action(async (key: string, opts: { window?: ResultsWindow }) => {
      const { api } = connect();
      const r = await api.results(key, opts.window);
      print(r, () => `${r.experiment}, ${r.window.from} to ${r.window.to}\n\n${renderResults(r)}`);
    });

  const datasets = program.command('datasets').description('curated datasets, snapshots and JSONL downloads');
  datasets
    .command('create <file>')
    .description("define a dataset from a .json/.yaml file: POST /v1/datasets's body")
    .action(async (file: string) => {
      const body = datasetFile(file, readDocument(file));
      const { api } = connect();
      const d = await api.createDataset(body);
      print(d, () => `${d.name} created (${d.format})`);
    });
  datasets
    .command('snapshot <name>')
    .description('freeze what the dataset matches now into an immutable snapshot')
    .action(async (name: string) => {
      const { api } = connect();
      const { snapshot: s, created } = await api.snapshot(name);
      const splits = Object.entries(s.splits)
        .map(([split, n]) => `${split} ${n}`)
        .join(', ');
      print(
        s,
        () =>
          `${s.dataset} snapshot ${s.sequence}: ${s.records} records (${splits || 'empty'})${created ? '' : ', unchanged'}\n  id ${s.id}`,
      );
    });
  datasets
    .command('download <name> [ref]')
    .description('one split of a snapshot (id, sequence number or latest; default latest) as JSONL')
    .option('--split <split>', 'train (default) or a split of the dataset definition')
    .addOption(
      new Option('--format <format>', "file format (default: the dataset's)").choices([
        'openai-chat',
        'openai-preference',
        'trl-dpo',
        'eval',
      ]),
    )
    .option('-o, --output <file>', 'write to this file (default: standard output)')
    .action(
      async (
        name: string,
        ref = 'latest',
        opts: { split?: string; format?: DownloadFormat; output?: string },
      ) => {
        const { api } = connect();
        const { body, snapshotId } = await api.download(name, ref, {
          ...(opts.split !== undefined ? { split: opts.split } : {}),
          ...(opts.format !== undefined ? { format: opts.format } : {}),
        });
        const source = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
        if (opts.output === undefined) {
          // A reader that stops early (`| head`) closes the pipe: not a failure of the download.
          await pipeline(source, io.stdout, { end: false }).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'EPIPE') throw err;
          });
          return;
        }
        const counter = lineCounter();
        try {
          await pipeline(source, counter, createWriteStream(opts.output));
        } catch (err) {
          rmSync(opts.output, { force: true }); // never leave a truncated split behind
          throw new LlmopsError(`download ${name}@${ref}: ${(err as Error).message}`, 'download_failed');
        }
        const summary = { file: opts.output, lines: counter.lines, snapshot: snapshotId ?? null };
        print(summary, () => `${opts.output}: ${counter.lines} lines of snapshot ${snapshotId ?? ref}`);
      },
    );
  return program;
}

/** What to print for a failure, and the exit code. */
function failure(err: unknown, json: boolean): { text: string; code: number } {
  const code =
    err instanceof LlmopsValidationError
      ? EXIT.usage
      : err instanceof LlmopsUnavailableError
        ? EXIT.unavailable
        : EXIT.refused;
  if (!(err instanceof LlmopsError)) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      text: json ? JSON.stringify({ error: { code: 'cli_error', message } }) : `llmops: ${message}`,
      code,
    };
  }
  if (json) {
    const { code: errorCode, message, status, details } = err;
    return { text: JSON.stringify({ error: { code: errorCode, message, status, details } }), code };
  }
  const where = err.status !== undefined ? `${err.code}, HTTP ${err.status}` : err.code;
  const details =
    err.details !== undefined && !(err instanceof LlmopsValidationError)
      ? `\n  details: ${JSON.stringify(err.details)}`
      : '';
  return { text: `llmops: ${err.message} (${where})${details}`, code };
}

/** Runs one command line (without `node llmops`); resolves with the exit code. */
export async function run(
  args: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const { text, code } = failure(err, program.opts<GlobalOptions>().json === true);
    io.stderr.write(`${text}\n`);
    return code;
  }
}

/** The `llmops` executable. */
export function main(): void {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) main();
