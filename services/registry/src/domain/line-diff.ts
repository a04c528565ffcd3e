/**
 * Line diff with bounded time and memory: Myers' greedy O((N+M)·D) algorithm on interned lines
 * (integers in typed arrays), which gives up when the texts differ in more than `maxEdits` lines
 * (an added or removed line is one edit) or past a deadline. Memory is O(D²) integers for the
 * trace of the furthest-reaching paths, so at most about maxEdits² / 2 of them.
 *
 * A line is compared with its newline, as in the `diff` package: `a` at the end of a text with no
 * final newline differs from `a\n`. Unified output uses the `diff` package's own formatter.
 */
import { formatPatch, type StructuredPatchHunk } from 'diff';

export type LineOp = 'equal' | 'added' | 'removed';

export interface LineRun {
  op: LineOp;
  /** Lines with their newline (the last line of a text may have none). */
  tokens: string[];
}

/** Lines of a text, each with its newline; the last one has none when the text does not end in one. */
export function lineTokens(text: string): string[] {
  const tokens: string[] = [];
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
    tokens.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) tokens.push(text.slice(start));
  return tokens;
}

/** The diff pauses (and checks its deadline) once every this many diagonals. */
const SLICE = 4096;

/**
 * Minimal line diff of `a` and `b` as runs (removals before additions within a change), or
 * `undefined` when they differ in more than `maxEdits` lines or `deadline` (epoch ms) passes.
 */
export function diffLineTokens(
  a: string[],
  b: string[],
  maxEdits: number,
  deadline = Number.POSITIVE_INFINITY,
): LineRun[] | undefined {
  const steps = diffSteps(a, b, maxEdits, deadline);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** As diffLineTokens, yielding to the event loop between slices of work, so a large diff never blocks it. */
export async function diffLineTokensAsync(
  a: string[],
  b: string[],
  maxEdits: number,
  deadline = Number.POSITIVE_INFINITY,
): Promise<LineRun[] | undefined> {
  const steps = diffSteps(a, b, maxEdits, deadline);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function* diffSteps(
  a: string[],
  b: string[],
  maxEdits: number,
  deadline: number,
): Generator<void, LineRun[] | undefined> {
  // Intern lines so the inner loop compares integers.
  const ids = new Map<string, number>();
  const intern = (tokens: string[]) => {
    const out = new Int32Array(tokens.length);
    tokens.forEach((t, i) => {
      let id = ids.get(t);
      if (id === undefined) ids.set(t, (id = ids.size));
      out[i] = id;
    });
    return out;
  };
  const A = intern(a);
  const B = intern(b);
  const n = A.length;
  const m = B.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v[k] for k = -d..d after round d (furthest x on diagonal k with d edits).
  const trace: Int32Array[] = [];
  let steps = 0;
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])
          ? v[offset + k + 1]
          : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
      if (++steps % SLICE === 0) {
        if (Date.now() > deadline) return undefined;
        yield;
      }
    }
    trace.push(v.slice(offset - d, offset + d + 1));
  }
  if (found < 0) return undefined;

  // Walk back from (n, m): each round contributes a diagonal run and one edit.
  const ops: LineOp[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const prev = trace[d - 1];
    const at = (k: number) => prev[k + d - 1];
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    const midX = down ? prevX : prevX + 1;
    while (x > midX) {
      ops.push('equal');
      x--;
      y--;
    }
    ops.push(down ? 'added' : 'removed');
    x = prevX;
    y = prevY;
  }
  for (; x > 0; x--) ops.push('equal');
  ops.reverse();

  // Group into runs; within one change, removals first, then additions.
  const runs: LineRun[] = [];
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < ops.length;) {
    if (ops[i] === 'equal') {
      const tokens: string[] = [];
      for (; i < ops.length && ops[i] === 'equal'; i++, ia++, ib++) tokens.push(a[ia]);
      runs.push({ op: 'equal', tokens });
      continue;
    }
    const removed: string[] = [];
    const added: string[] = [];
    for (; i < ops.length && ops[i] !== 'equal'; i++) {
      if (ops[i] === 'removed') removed.push(a[ia++]);
      else added.push(b[ib++]);
    }
    if (removed.length > 0) runs.push({ op: 'removed', tokens: removed });
    if (added.length > 0) runs.push({ op: 'added', tokens: added });
  }
  return runs;
}

/**
 * The runs as a unified diff (`diff -u` / git format) with `context` lines around each change:
 * hunks are built as the `diff` package builds them, and printed by its `formatPatch`.
 */
export function unifiedDiff(runs: LineRun[], fromLabel: string, toLabel: string, context = 3): string {
  const hunks: StructuredPatchHunk[] = [];
  let current: string[] | null = null;
  let oldStart = 0;
  let newStart = 0;
  let oldLine = 1;
  let newLine = 1;
  const contextOf = (tokens: string[]) => tokens.map((t) => ` ${t}`);
  runs.forEach((run, i) => {
    if (run.op !== 'equal') {
      if (current === null) {
        const before = i > 0 && context > 0 ? runs[i - 1].tokens.slice(-context) : [];
        current = contextOf(before);
        oldStart = oldLine - before.length;
        newStart = newLine - before.length;
      }
      for (const t of run.tokens) current.push(`${run.op === 'added' ? '+' : '-'}${t}`);
      if (run.op === 'added') newLine += run.tokens.length;
      else oldLine += run.tokens.length;
      return;
    }
    if (current !== null) {
      if (run.tokens.length <= context * 2 && i < runs.length - 1) {
        current.push(...contextOf(run.tokens));
      } else {
        const size = Math.min(run.tokens.length, context);
        current.push(...contextOf(run.tokens.slice(0, size)));
        hunks.push({
          oldStart,
          oldLines: oldLine - oldStart + size,
          newStart,
          newLines: newLine - newStart + size,
          lines: current,
        });
        current = null;
      }
    }
    oldLine += run.tokens.length;
    newLine += run.tokens.length;
  });
  if (current !== null) {
    hunks.push({
      oldStart,
      oldLines: oldLine - oldStart,
      newStart,
      newLines: newLine - newStart,
      lines: current,
    });
  }
  // Drop each line's newline; a line without one is followed by the "no newline" marker.
  for (const hunk of hunks) {
    const lines: string[] = [];
    for (const line of hunk.lines) {
      if (line.endsWith('\n')) lines.push(line.slice(0, -1));
      else lines.push(line, '\\ No newline at end of file');
    }
    hunk.lines = lines;
  }
  return formatPatch({
    oldFileName: fromLabel,
    newFileName: toLabel,
    oldHeader: undefined,
    newHeader: undefined,
    hunks,
  });
}
