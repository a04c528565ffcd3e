/**
 * Regenerates the committed artifacts of @llmops/contracts from the zod schemas:
 *   libs/contracts/asyncapi.json        AsyncAPI 3.0.0 document
 *   libs/contracts/schemas/<type>.json  JSON Schema (draft 2020-12) of each event envelope
 *
 * Run from the repo root: node -r @swc-node/register libs/contracts/scripts/write-asyncapi.ts
 * The files are formatted with the repo's prettier config (so `prettier --check .` stays green);
 * `src/artifacts.spec.ts` fails when their content is out of date.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { renderAsyncApiJson, renderJsonSchemaFiles } from '../src';

async function write(path: string, content: string): Promise<void> {
  const config = (await resolveConfig(path)) ?? {};
  writeFileSync(path, await format(content, { ...config, filepath: path }));
  console.log(`wrote ${path}`);
}

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  await write(join(root, 'asyncapi.json'), renderAsyncApiJson());

  const schemasDir = join(root, 'schemas');
  mkdirSync(schemasDir, { recursive: true });
  const files = renderJsonSchemaFiles();
  for (const existing of readdirSync(schemasDir)) {
    if (existing.endsWith('.json') && !(existing in files)) rmSync(join(schemasDir, existing));
  }
  for (const [name, content] of Object.entries(files)) await write(join(schemasDir, name), content);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
