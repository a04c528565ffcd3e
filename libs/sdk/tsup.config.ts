/**
 * The publishable package: one CommonJS bundle per entry in libs/sdk/dist with its type
 * declarations. The platform's pure libs (@llmops/hashing, @llmops/experiments, @llmops/prompts)
 * and uuid are bundled in; openapi-fetch and ajv stay dependencies. Nothing of NestJS, Kafka or mongoose
 * may reach the bundle (test/package.int-spec.ts checks).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

const src = join(__dirname, 'src');

export default defineConfig({
  entry: ['index.ts', 'cli.ts'].filter((f) => existsSync(join(src, f))).map((f) => join(src, f)),
  outDir: join(__dirname, 'dist'),
  tsconfig: join(__dirname, 'tsconfig.json'),
  format: ['cjs'],
  platform: 'node',
  target: 'node20',
  dts: { resolve: [/^@llmops\//] },
  sourcemap: true,
  clean: true,
  noExternal: [/^@llmops\//, 'uuid'],
  external: ['ajv', 'openapi-fetch', 'commander', 'yaml'],
});
