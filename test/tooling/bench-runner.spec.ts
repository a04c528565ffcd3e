import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { markdownTable, selectBenches } from '../bench/run';

// The runner lives in test/bench, which jest does not search for tests; its spec lives here.
const ROOT = path.resolve(__dirname, '../..');
const RESULT = path.join(ROOT, 'test/bench/support/result');

/** Fixture benchmarks that report through the real helper, each behaving one way. */
const FIXTURES: Record<string, string> = {
  fast: `reportResult({ measure: 'fast path, ours/baseline', value: 0.91, goal: { op: '>=', value: 0.8 } });`,
  slow: `reportResult({ measure: 'slow path, p99', value: 2500, unit: 'ms', goal: { op: '<', value: 2000 } });`,
  crash: `reportResult({ measure: 'before the crash', value: 1 }); throw new Error('broker gone');`,
  silent: `console.log('measured, but reported nothing');`,
};

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bench-runner-'));
  for (const [name, body] of Object.entries(FIXTURES)) {
    writeFileSync(
      path.join(dir, `${name}.bench.ts`),
      `import { reportResult } from ${JSON.stringify(RESULT)};\n${body}\n`,
    );
  }
  writeFileSync(path.join(dir, 'helper.ts'), 'export {};\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runBenches(only: string): { status: number | null; out: string } {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BENCH_DIR: dir,
    BENCH_ONLY: only,
  };
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', 'test/bench/run.ts'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('npm run bench (test/bench/run.ts)', () => {
  it('finds every *.bench.ts and narrows to the BENCH_ONLY names', () => {
    expect(selectBenches(dir, undefined)).toEqual(['crash', 'fast', 'silent', 'slow']);
    expect(selectBenches(dir, 'slow, fast.bench.ts')).toEqual(['fast', 'slow']);
    expect(() => selectBenches(dir, 'fast,nope')).toThrow(
      'BENCH_ONLY: no benchmark named nope; there are: crash, fast, silent, slow',
    );
  });

  it('runs the benchmarks and prints one table of results against their goals; a missed goal does not fail the run', () => {
    const { status, out } = runBenches('fast,slow');
    expect(status).toBe(0);
    const summary = out.slice(out.indexOf('Date: '));
    expect(summary).toMatch(/^Date: \d{4}-\d\d-\d\d \d\d:\d\d UTC$/m);
    expect(summary).toMatch(/^Machine: .+, \d+ cores, /m);
    expect(summary).toContain(`Node: ${process.version}`);
    expect(summary).toContain('Command: BENCH_ONLY=fast,slow node -r @swc-node/register test/bench/run.ts');
    expect(summary).toMatch(
      /\| fast +\| fast path, ours\/baseline +\| 0\.91x +\| >= 0\.8x +\| yes +\| \d+ s +\|/,
    );
    expect(summary).toMatch(
      /\| slow +\| slow path, p99 +\| 2500 ms +\| < 2000 ms +\| \*\*NO\*\* +\| \d+ s +\|/,
    );
    expect(summary).toContain('Goals NOT met (1): slow: slow path, p99.');
  });

  it('exits 1 when a benchmark crashes or reports nothing, and still reports the others', () => {
    const { status, out } = runBenches('crash,fast,silent');
    expect(status).toBe(1);
    const summary = out.slice(out.indexOf('Date: '));
    expect(summary).toMatch(/\| crash +\| CRASHED \(exit 1\) +\|/);
    expect(summary).toMatch(/\| crash +\| before the crash +\| 1\.00x +\| \(no goal\) +\|/);
    expect(summary).toMatch(/\| silent +\| REPORTED NOTHING +\|/);
    expect(summary).toMatch(/\| fast +\| fast path, ours\/baseline +\| 0\.91x +\|/);
    expect(summary).toContain('Failed (2): crash, silent.');
  });

  it('exits 2 and lists the benchmarks when BENCH_ONLY names none of them', () => {
    const { status, out } = runBenches('nope');
    expect(status).toBe(2);
    expect(out).toContain('BENCH_ONLY: no benchmark named nope; there are: crash, fast, silent, slow');
  });

  it('pads the table like Prettier, so it pastes into a README unchanged', () => {
    expect(markdownTable(['a', 'long header'], [['value', 'x']])).toBe(
      ['| a     | long header |', '| ----- | ----------- |', '| value | x           |'].join('\n'),
    );
  });
});
