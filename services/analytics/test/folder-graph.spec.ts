/**
 * The folders of services/analytics/src depend one way: each imports only from folders before it
 * in LAYERS (specs included), so the folder graph has no cycle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SRC = join(__dirname, '../src');
const LAYERS = [
  'config',
  'domain',
  'persistence',
  'results',
  'metrics',
  'decisions',
  'aggregation',
  'prompts',
  'mlflow',
];

it('each folder imports only from the folders before it', () => {
  const wrong: string[] = [];
  for (const [rank, folder] of LAYERS.entries()) {
    for (const file of readdirSync(join(SRC, folder), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(join(SRC, folder, file), 'utf8');
      for (const [, target] of text.matchAll(/from '(?:\.\.\/)+([a-z-]+)\//g)) {
        const dependency = LAYERS.indexOf(target);
        if (dependency >= rank) wrong.push(`${folder}/${file} -> ${target}/`);
      }
    }
  }
  expect(wrong).toEqual([]);
});
