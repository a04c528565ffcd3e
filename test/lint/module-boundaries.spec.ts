/**
 * Proves that the lint rules enforce the architecture: a service importing another service, a
 * lib importing a service, and a deep import into a lib are errors; the public entry is fine.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');
const run = promisify(execFile);

interface LintMessage {
  ruleId: string | null;
  severity: number;
  message: string;
}

/** Lints `code` as the contents of the existing `file` (the type-aware parser needs a file that
 * exists), with the repository's real config, in a child process
 * (the flat config is ESM, which jest's module sandbox cannot load). */
async function lint(code: string, file: string): Promise<string[]> {
  const pending = run(
    join(root, 'node_modules', '.bin', 'eslint'),
    ['--stdin', '--stdin-filename', join(root, file), '--format', 'json', '--no-warn-ignored'],
    { cwd: root, maxBuffer: 16 * 1024 * 1024 },
  );
  pending.child.stdin?.end(code);
  // eslint exits 1 when it reports errors; the JSON report is on stdout either way.
  const { stdout } = await pending.catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  const [result] = JSON.parse(stdout) as Array<{ messages: LintMessage[] }>;
  return result.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('module boundaries (eslint + @nx/enforce-module-boundaries)', () => {
  it('rejects a service importing another service', async () => {
    const errors = await lint(
      "import { AppModule } from '../../assignment/src/app.module';\nexport const m = AppModule;\n",
      'services/registry/src/main.ts',
    );
    expect(errors.some((e) => e.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
  });

  it('rejects a lib importing a service', async () => {
    const errors = await lint(
      "import { AppModule } from '../../../services/registry/src/app.module';\nexport const m = AppModule;\n",
      'libs/platform/src/index.ts',
    );
    expect(errors.some((e) => e.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
  });

  it('rejects a deep import into a lib', async () => {
    const errors = await lint(
      "import { BatchingProducer } from '@llmops/platform/src/kafka/batching-producer';\nexport const p = BatchingProducer;\n",
      'services/feedback/src/main.ts',
    );
    expect(errors.some((e) => e.startsWith('no-restricted-imports'))).toBe(true);
  });

  it('rejects AsyncLocalStorage (async hooks) in services and libs', async () => {
    for (const from of ['node:async_hooks', 'async_hooks']) {
      const errors = await lint(
        `import { AsyncLocalStorage } from '${from}';\nexport const s = new AsyncLocalStorage();\n`,
        'libs/platform/src/logging/context.ts',
      );
      expect(errors.some((e) => e.startsWith('no-restricted-imports'))).toBe(true);
    }
  });

  it('accepts a service importing a lib through its public entry', async () => {
    const errors = await lint(
      "import { BatchingProducer } from '@llmops/platform';\nexport const p = BatchingProducer;\n",
      'services/feedback/src/main.ts',
    );
    expect(errors).toEqual([]);
  });
});
