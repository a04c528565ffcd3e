/**
 * Sources compiled as the build compiles the services (swc with `swc.build.json`), with the
 * workspace's path aliases (`tsconfig.base.json`), so that a benchmark's worker runs as production
 * runs a service: plain JavaScript under `node`, without the TypeScript compiler and the source maps
 * that `node -r @swc-node/register` holds (tens of megabytes a memory benchmark would count).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness';

/** Where `compiled` writes: ignored by git, beside the local infrastructure's files. */
export const BUILT_DIR = path.join(ROOT, '.local', 'bench-build');

/**
 * Compiles `sources` (files or folders, relative to the repository root) into BUILT_DIR, keeping
 * their paths; returns the compiled path of `sources[0]`.
 */
export function compiled(sources: string[]): string {
  const build = JSON.parse(readFileSync(path.join(ROOT, 'swc.build.json'), 'utf8')) as {
    jsc: { baseUrl?: string; paths?: Record<string, string[]> };
  };
  const { compilerOptions } = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  // The aliases name their index files; swc resolves a folder's index itself.
  build.jsc.paths = Object.fromEntries(
    Object.entries(compilerOptions.paths).map(([alias, targets]) => [
      alias,
      targets.map((t) => t.replace(/\/index\.ts$/, '')),
    ]),
  );
  // swc reads a relative baseUrl against the config file, which is written elsewhere.
  build.jsc.baseUrl = ROOT;
  rmSync(BUILT_DIR, { recursive: true, force: true });
  mkdirSync(BUILT_DIR, { recursive: true });
  const config = path.join(BUILT_DIR, 'swc.json');
  writeFileSync(config, JSON.stringify(build));
  execFileSync(
    path.join(ROOT, 'node_modules', '.bin', 'swc'),
    [...sources, '--out-dir', BUILT_DIR, '--config-file', config, '--copy-files', '--quiet'],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return path.join(BUILT_DIR, sources[0].replace(/\.ts$/, '.js'));
}
