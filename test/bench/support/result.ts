/**
 * How a benchmark hands its results to `npm run bench` (test/bench/run.ts). `reportResult` prints
 * the line a person reads and, when the runner passed BENCH_RESULT_FILE, appends the result to that
 * file as one JSON line. A benchmark reports one result per goal (the analytics consumer has three),
 * or a headline figure without a goal when it only explains another benchmark.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';

export type Comparison = '>=' | '<=' | '<';

export interface Goal {
  op: Comparison;
  value: number;
}

export interface BenchResult {
  /** The benchmark's file name without `.bench.ts`: the name BENCH_ONLY takes. */
  bench: string;
  /** What was measured, e.g. `POST /v1/assign req/s, ours/baseline`. */
  measure: string;
  value: number;
  /** `x` for a ratio; otherwise the value's unit (`ms`, `µs`, `commands`). */
  unit: string;
  goal?: Goal;
  /** Whether `value` meets `goal`; absent without a goal. */
  met?: boolean;
}

/** `>= 0.75x`, `< 2000 ms`. */
export function formatGoal(goal: Goal, unit: string): string {
  return `${goal.op} ${goal.value}${formatUnit(unit)}`;
}

/** `0.79x`, `1423 ms`. */
export function formatValue(value: number, unit: string): string {
  const digits = unit === 'x' ? 2 : Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${formatUnit(unit)}`;
}

function formatUnit(unit: string): string {
  return unit === 'x' || unit === '' ? unit : ` ${unit}`;
}

export function meets(value: number, goal: Goal): boolean {
  if (goal.op === '>=') return value >= goal.value;
  if (goal.op === '<=') return value <= goal.value;
  return value < goal.value;
}

/** The name of the benchmark this process runs: its entry file without `.bench.ts`. */
export function currentBench(): string {
  return path.basename(process.argv[1] ?? 'unknown', '.ts').replace(/\.bench$/, '');
}

/** Prints `result  <measure> = <value> (goal <goal>): MET` and hands the result to the runner. */
export function reportResult(r: { measure: string; value: number; unit?: string; goal?: Goal }): BenchResult {
  const unit = r.unit ?? 'x';
  const result: BenchResult = { bench: currentBench(), measure: r.measure, value: r.value, unit };
  if (r.goal) {
    result.goal = r.goal;
    result.met = meets(r.value, r.goal);
  }
  const verdict = r.goal ? ` (goal ${formatGoal(r.goal, unit)}): ${result.met ? 'MET' : 'NOT MET'}` : '';
  console.log(`result  ${r.measure} = ${formatValue(r.value, unit)}${verdict}`);
  const file = process.env.BENCH_RESULT_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(result)}\n`);
  return result;
}

/** The results a benchmark appended to `file` (one JSON object a line). */
export function parseResults(text: string): BenchResult[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as BenchResult);
}
