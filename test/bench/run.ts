/**
 * `npm run bench`: runs every `*.bench.ts` of this folder, or those BENCH_ONLY names
 * (`BENCH_ONLY=assignment-http,feedback-single`: file names without `.bench.ts`), one after the
 * other, each in its own process with this process's environment, and then prints one summary: the
 * date, the machine, the Node version and the command, then a Markdown table with each benchmark's
 * results against their goals (a README's benchmark table can be pasted from it).
 *
 * Each benchmark reports through support/result.ts: this runner passes BENCH_RESULT_FILE, one file
 * per benchmark. The exit code is 1 when a benchmark crashed or reported nothing, 2 when BENCH_ONLY
 * names no benchmark; a goal that is not met is shown in the table, not in the exit code.
 * BENCH_DIR (default: this folder) is where benchmarks are looked for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BenchResult, formatGoal, formatValue, parseResults } from './support/result';

const SUFFIX = '.bench.ts';
const ROOT = path.resolve(__dirname, '../..');

interface BenchRun {
  bench: string;
  seconds: number;
  /** The exit code, or the signal that ended it. */
  exit: number | NodeJS.Signals;
  results: BenchResult[];
}

/** The benchmarks in `dir` (file names without `.bench.ts`), sorted, restricted to `only`. */
export function selectBenches(dir: string, only: string | undefined): string[] {
  const all = readdirSync(dir)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
  if (only === undefined || only.trim() === '') return all;
  const wanted = only
    .split(',')
    .map((s) => s.trim().replace(/\.bench\.ts$/, ''))
    .filter((s) => s !== '');
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length > 0) {
    throw new Error(`BENCH_ONLY: no benchmark named ${unknown.join(', ')}; there are: ${all.join(', ')}`);
  }
  return all.filter((b) => wanted.includes(b));
}

function runOne(dir: string, bench: string, resultDir: string): Promise<BenchRun> {
  const resultFile = path.join(resultDir, `${bench}.jsonl`);
  const started = Date.now();
  console.log(`\n=== ${bench} ===`);
  const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(dir, `${bench}${SUFFIX}`)], {
    cwd: ROOT,
    env: { ...process.env, BENCH_RESULT_FILE: resultFile },
    stdio: 'inherit',
  });
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      let results: BenchResult[] = [];
      try {
        results = parseResults(readFileSync(resultFile, 'utf8'));
      } catch {
        // no file: the benchmark reported nothing
      }
      resolve({ bench, seconds: (Date.now() - started) / 1000, exit: code ?? signal ?? 1, results });
    });
  });
}

/** The command that reproduces this run: npm's or node's, with the BENCH_* settings in effect. */
export function commandLine(env: NodeJS.ProcessEnv): string {
  const settings = Object.keys(env)
    .filter((k) => k.startsWith('BENCH_') && !['BENCH_RESULT_FILE', 'BENCH_ROLE', 'BENCH_DIR'].includes(k))
    .sort()
    .map((k) => `${k}=${env[k]}`);
  const command =
    env.npm_lifecycle_event === 'bench' ? 'npm run bench' : 'node -r @swc-node/register test/bench/run.ts';
  return [...settings, command].join(' ');
}

/** A Markdown table with the columns padded as Prettier pads them. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The summary: when, where and how it ran, then one row per result (or per crashed benchmark). */
export function summary(runs: BenchRun[], env: NodeJS.ProcessEnv, at: Date): string {
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg()[0].toFixed(1)}`;
  const rows: string[][] = [];
  for (const run of runs) {
    const time = `${run.seconds.toFixed(0)} s`;
    if (run.exit !== 0 || run.results.length === 0) {
      const why = run.exit !== 0 ? `CRASHED (exit ${run.exit})` : 'REPORTED NOTHING';
      rows.push([run.bench, why, '', '', '', time]);
    }
    for (const r of run.results) {
      const goal = r.goal ? formatGoal(r.goal, r.unit) : '(no goal)';
      const met = r.met === undefined ? '' : r.met ? 'yes' : '**NO**';
      rows.push([run.bench, r.measure, formatValue(r.value, r.unit), goal, met, time]);
    }
  }
  const missed = runs.flatMap((r) => r.results).filter((r) => r.met === false);
  const failed = runs.filter((r) => r.exit !== 0 || r.results.length === 0);
  return [
    `Date: ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `Machine: ${machine}`,
    `Node: ${process.version}`,
    `Command: ${commandLine(env)}`,
    '',
    markdownTable(['benchmark', 'measure', 'result', 'goal', 'met', 'time'], rows),
    '',
    missed.length === 0
      ? `Every ${failed.length > 0 ? 'reported ' : ''}goal is met.`
      : `Goals NOT met (${missed.length}): ${missed.map((r) => `${r.bench}: ${r.measure}`).join('; ')}.`,
    ...(failed.length > 0 ? [`Failed (${failed.length}): ${failed.map((r) => r.bench).join(', ')}.`] : []),
  ].join('\n');
}

async function main(): Promise<number> {
  const dir = path.resolve(process.env.BENCH_DIR ?? __dirname);
  let benches: string[];
  try {
    benches = selectBenches(dir, process.env.BENCH_ONLY);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const at = new Date();
  const resultDir = mkdtempSync(path.join(os.tmpdir(), 'llmops-bench-'));
  const runs: BenchRun[] = [];
  try {
    console.log(`running ${benches.length} benchmark(s) one after the other: ${benches.join(', ')}`);
    for (const bench of benches) runs.push(await runOne(dir, bench, resultDir));
  } finally {
    rmSync(resultDir, { recursive: true, force: true });
  }
  console.log(`\n${summary(runs, process.env, at)}`);
  return runs.some((r) => r.exit !== 0 || r.results.length === 0) ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
