/**
 * Proves that the lint rules enforce the architecture: a service importing another service, a
 * lib importing a service, and a deep import into a lib are errors; the public entry is fine.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');
const run = promisify(execFile);

interface LintCase {
  code: string;
  /** An existing file the code is linted as (the type-aware parser needs a file that exists). */
  file: string;
}

/**
 * Lints every case with the repository's real config in ONE child process (the flat config is ESM,
 * which jest's module sandbox cannot load; one ESLint instance builds the typed program once) and
 * returns, per case, its errors as `rule: message`.
 */
async function lintAll(cases: Record<string, LintCase>): Promise<Record<string, string[]>> {
  const script = `
    const { ESLint } = await import('eslint');
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const eslint = new ESLint({ cwd: process.cwd() });
    const out = {};
    for (const [name, c] of Object.entries(JSON.parse(input))) {
      const [result] = await eslint.lintText(c.code, { filePath: c.file, warnIgnored: false });
      out[name] = result.messages.filter((m) => m.severity === 2).map((m) => m.ruleId + ': ' + m.message);
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const withPaths = Object.fromEntries(
    Object.entries(cases).map(([name, c]) => [name, { ...c, file: join(root, c.file) }]),
  );
  const pending = run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  pending.child.stdin?.end(JSON.stringify(withPaths));
  const { stdout } = await pending;
  return JSON.parse(stdout) as Record<string, string[]>;
}

const CASES: Record<string, LintCase> = {
  serviceImportsService: {
    code: "import { AppModule } from '../../assignment/src/app.module';\nexport const m = AppModule;\n",
    file: 'services/registry/src/main.ts',
  },
  libImportsService: {
    code: "import { AppModule } from '../../../services/registry/src/app.module';\nexport const m = AppModule;\n",
    file: 'libs/platform/src/index.ts',
  },
  deepImport: {
    code: "import { BatchingProducer } from '@llmops/platform/src/kafka/batching-producer';\nexport const p = BatchingProducer;\n",
    file: 'services/feedback/src/main.ts',
  },
  asyncHooksPrefixed: {
    code: "import { AsyncLocalStorage } from 'node:async_hooks';\nexport const s = new AsyncLocalStorage();\n",
    file: 'libs/platform/src/logging/context.ts',
  },
  asyncHooks: {
    code: "import { AsyncLocalStorage } from 'async_hooks';\nexport const s = new AsyncLocalStorage();\n",
    file: 'libs/platform/src/logging/context.ts',
  },
  publicEntry: {
    code: "import { BatchingProducer } from '@llmops/platform';\nexport const p = BatchingProducer;\n",
    file: 'services/feedback/src/main.ts',
  },
};

describe('module boundaries (eslint + @nx/enforce-module-boundaries)', () => {
  let errors: Record<string, string[]>;

  beforeAll(async () => {
    errors = await lintAll(CASES);
  });

  it('rejects a service importing another service', () => {
    expect(errors.serviceImportsService.some((e) => e.startsWith('@nx/enforce-module-boundaries'))).toBe(
      true,
    );
  });

  it('rejects a lib importing a service', () => {
    expect(errors.libImportsService.some((e) => e.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
  });

  it('rejects a deep import into a lib', () => {
    expect(errors.deepImport.some((e) => e.startsWith('no-restricted-imports'))).toBe(true);
  });

  it('rejects AsyncLocalStorage (async hooks) in services and libs', () => {
    for (const name of ['asyncHooksPrefixed', 'asyncHooks']) {
      expect(errors[name].some((e) => e.startsWith('no-restricted-imports'))).toBe(true);
    }
  });

  it('accepts a service importing a lib through its public entry', () => {
    expect(errors.publicEntry).toEqual([]);
  });
});
