/**
 * The patches the launcher applies to FerretDB's sources before it builds the local server: each
 * replaces text that occurs exactly once, or the build stops; the committed patches apply to the
 * FerretDB version the wrapper's go.mod requires (checked where `go` is installed, as wherever the
 * launcher builds FerretDB).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { applySourcePatches, REPO_ROOT, type SourcePatch } from '@llmops/local-infra';

const WRAPPER = join(REPO_ROOT, 'deploy', 'local', 'ferretdb');
const PATCHES = JSON.parse(readFileSync(join(WRAPPER, 'source-patches.json'), 'utf8')) as SourcePatch[];

const patch = (find: string, replace: string): SourcePatch => ({
  file: 'a/b.go',
  why: 'test',
  find,
  replace,
});

describe('FerretDB source patches', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ferret-patch-'));
    mkdirSync(join(root, 'a'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('replaces text that occurs once', () => {
    writeFileSync(join(root, 'a/b.go'), 'const X = "old"\nconst Y = 1\n');
    applySourcePatches(root, [patch('"old"', '`new`')]);
    expect(readFileSync(join(root, 'a/b.go'), 'utf8')).toBe('const X = `new`\nconst Y = 1\n');
  });

  it.each([
    ['missing', 'const Y = 1\n', /found it nowhere/],
    ['repeated', 'const X = "old"\nconst Z = "old"\n', /found it more than once/],
  ])('refuses text that is %s, and leaves the file as it was', (_, text, error) => {
    writeFileSync(join(root, 'a/b.go'), text);
    expect(() => applySourcePatches(root, [patch('"old"', '`new`')])).toThrow(error);
    expect(readFileSync(join(root, 'a/b.go'), 'utf8')).toBe(text);
  });

  it('each committed patch says why, and changes its text', () => {
    expect(PATCHES.length).toBeGreaterThan(0);
    for (const p of PATCHES) {
      expect(p.why.length).toBeGreaterThan(40);
      expect(p.replace).not.toBe(p.find);
    }
  });

  const go = (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, 'go')));
  (go ? it : it.skip)('the committed patches apply to the FerretDB module the wrapper requires', () => {
    const { Dir } = JSON.parse(
      execFileSync('go', ['mod', 'download', '-json', 'github.com/FerretDB/FerretDB'], {
        cwd: WRAPPER,
        encoding: 'utf8',
      }),
    ) as { Dir: string };
    for (const p of PATCHES) {
      const copy = join(root, p.file);
      mkdirSync(dirname(copy), { recursive: true });
      writeFileSync(copy, readFileSync(join(Dir, p.file), 'utf8'));
    }
    applySourcePatches(root, PATCHES);
    for (const p of PATCHES) expect(readFileSync(join(root, p.file), 'utf8')).toContain(p.replace);
  });
});
