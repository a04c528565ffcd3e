import { mulberry32 } from '@llmops/stats';
import { applyPatch, createTwoFilesPatch, diffLines } from 'diff';
import { diffLineTokens, diffLineTokensAsync, lineTokens, unifiedDiff } from './line-diff';

/** Random texts over a small alphabet of lines, so they share many lines (and some final newlines). */
function randomText(next: () => number): string {
  const n = Math.floor(next() * 12);
  const lines = Array.from({ length: n }, () => 'abcd'[Math.floor(next() * 4)]);
  return lines.join('\n') + (next() < 0.5 ? '\n' : '');
}

const editsOf = (changes: Array<{ added?: boolean; removed?: boolean; count?: number }>) =>
  changes.filter((c) => c.added || c.removed).reduce((n, c) => n + (c.count ?? 0), 0);

describe('line diff (bounded Myers)', () => {
  it('splits lines with their newlines, the last one possibly without', () => {
    expect(lineTokens('')).toEqual([]);
    expect(lineTokens('a\n\nb')).toEqual(['a\n', '\n', 'b']);
    expect(lineTokens('a\n')).toEqual(['a\n']);
  });

  it('matches the diff package on 1,000 random pairs: minimal, reconstructs both texts, and its unified patch applies', () => {
    const next = mulberry32(7);
    for (let i = 0; i < 1_000; i++) {
      const a = randomText(next);
      const b = randomText(next);
      const runs = diffLineTokens(lineTokens(a), lineTokens(b), Number.POSITIVE_INFINITY)!;
      const side = (op: 'added' | 'removed') =>
        runs
          .filter((r) => r.op !== op)
          .flatMap((r) => r.tokens)
          .join('');
      expect(side('added')).toBe(a);
      expect(side('removed')).toBe(b);
      const edits = runs.filter((r) => r.op !== 'equal').reduce((n, r) => n + r.tokens.length, 0);
      expect(edits).toBe(editsOf(diffLines(a, b)));
      const unified = unifiedDiff(runs, 'from', 'to');
      expect(applyPatch(a, unified)).toBe(b);
      // Where the diff package picks the same alignment, the text is identical to its own patch.
      const reference = createTwoFilesPatch('from', 'to', a, b, undefined, undefined, { context: 3 });
      const sameRuns = diffLines(a, b).every((c, j) => runs[j]?.tokens.join('') === c.value);
      if (sameRuns) expect(unified).toBe(reference);
    }
  });

  it('gives up past maxEdits, counting each added or removed line as one edit', () => {
    const a = lineTokens('1\n2\n3\n4\n');
    const b = lineTokens('1\nx\n3\ny\n');
    expect(diffLineTokens(a, b, 3)).toBeUndefined();
    expect(diffLineTokens(a, b, 4)).toEqual([
      { op: 'equal', tokens: ['1\n'] },
      { op: 'removed', tokens: ['2\n'] },
      { op: 'added', tokens: ['x\n'] },
      { op: 'equal', tokens: ['3\n'] },
      { op: 'removed', tokens: ['4\n'] },
      { op: 'added', tokens: ['y\n'] },
    ]);
  });

  it('gives up at the deadline', () => {
    const a = Array.from({ length: 20_000 }, (_, i) => `a${i}\n`);
    const b = Array.from({ length: 20_000 }, (_, i) => `b${i}\n`);
    expect(diffLineTokens(a, b, 40_000, Date.now() - 1)).toBeUndefined();
  });

  it('in async mode, yields to the event loop between slices of work and gives the same result', async () => {
    const a = Array.from({ length: 5_000 }, (_, i) => `line ${i}\n`);
    const b = a.map((l, i) => (i % 10 === 0 ? `changed ${i}\n` : l));
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const runs = await diffLineTokensAsync(a, b, 1_000);
    clearInterval(timer);
    expect(runs).toEqual(diffLineTokens(a, b, 1_000));
    expect(runs!.filter((r) => r.op === 'removed')).toHaveLength(500);
    expect(turns).toBeGreaterThan(0);
  });
});
