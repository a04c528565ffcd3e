import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  demoKey,
  downloadInstructions,
  downloadUrl,
  explain,
  HttpError,
  settledSnapshot,
} from '@llmops/demo';
import { generateApiKey } from '@llmops/hashing';

// `npm run demo` finds its key (LLMOPS_API_KEY, else npm start's .local/dev-admin-key) and says
// what to do when there is none, or when the platform refuses it.
describe('the demo key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-key-'));
  const file = join(dir, 'dev-admin-key');
  const missing = join(dir, 'no-such-file');

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes LLMOPS_API_KEY first, then the file npm start writes', () => {
    const fromEnv = generateApiKey();
    const fromFile = generateApiKey();
    writeFileSync(file, `${fromFile.key}\n`);
    expect(demoKey({ LLMOPS_API_KEY: fromEnv.key }, file)).toEqual({
      key: fromEnv.key,
      keyId: fromEnv.keyId,
      from: 'LLMOPS_API_KEY',
    });
    expect(demoKey({}, file)).toMatchObject({ key: fromFile.key, keyId: fromFile.keyId });
  });

  it('says how to get a key when there is none, and refuses a malformed one without printing it', () => {
    let message = '';
    try {
      demoKey({}, missing);
    } catch (err) {
      message = explain(err);
    }
    expect(message).toMatch(/^demo failed: no API key: set LLMOPS_API_KEY, or run `npm start` once/);
    expect(message).toContain(missing);
    expect(() => demoKey({ LLMOPS_API_KEY: 'llmk_not-a-key' }, missing)).toThrow(
      'the key in LLMOPS_API_KEY is not an API key (llmk_<keyId>_<secret>).',
    );
    expect(() => demoKey({ LLMOPS_API_KEY: 'llmk_not-a-key' }, missing)).not.toThrow(/not-a-key/);
  });

  it('explains a refused key (401) and a key without the scopes (403)', () => {
    const unauthenticated = explain(new HttpError(401, { error: { code: 'unauthenticated' } }, 'GET x'));
    expect(unauthenticated).toContain('The platform does not accept the key');
    const forbidden = explain(new HttpError(403, { error: { code: 'forbidden' } }, 'POST y'));
    expect(forbidden).toContain('The key lacks a scope the demo needs: prompts:write');
  });
});

// `npm run demo` ends by printing how to download the demo's preference pairs.
describe('the demo ending: downloading the preference pairs', () => {
  const snapshot = { id: 'ab'.repeat(32), sequence: 2, records: 120, splits: { train: 109, validation: 11 } };
  const datasetsUrl = 'http://127.0.0.1:3006';

  it('prints a ready-to-paste curl per split with the snapshot id, the URL and the key as $LLMOPS_API_KEY', () => {
    const text = downloadInstructions({
      datasetsUrl,
      dataset: 'summarizer-demo-x-pairs',
      snapshot,
      keyFrom: 'LLMOPS_API_KEY',
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      `Download the demo's preference pairs: dataset "summarizer-demo-x-pairs", snapshot 2 (120 pairs: train 109, validation 11)`,
    );
    expect(text).toContain(`snapshot id ${snapshot.id}`);
    const curls = lines.filter((l) => l.trimStart().startsWith('curl '));
    expect(curls).toEqual([
      `  curl -fsS -H "Authorization: Bearer $LLMOPS_API_KEY" -o summarizer-demo-x-pairs.train.jsonl "${datasetsUrl}/v1/datasets/summarizer-demo-x-pairs/snapshots/${snapshot.id}/download?split=train&format=openai-preference"`,
      `  curl -fsS -H "Authorization: Bearer $LLMOPS_API_KEY" -o summarizer-demo-x-pairs.validation.jsonl "${datasetsUrl}/v1/datasets/summarizer-demo-x-pairs/snapshots/${snapshot.id}/download?split=validation&format=openai-preference"`,
    ]);
    expect(text).not.toContain('export LLMOPS_API_KEY');
    expect(text).toContain('format=trl-dpo');
  });

  it('sets $LLMOPS_API_KEY from the key file when the demo read its key there', () => {
    const text = downloadInstructions({
      datasetsUrl,
      dataset: 'd',
      snapshot,
      keyFrom: '.local/dev-admin-key',
    });
    const commands = text.split('\n').filter((l) => /^\s+(export|curl) /.test(l));
    expect(commands[0]).toBe('  export LLMOPS_API_KEY=$(cat .local/dev-admin-key)');
    expect(commands.slice(1).every((l) => l.includes('Bearer $LLMOPS_API_KEY'))).toBe(true);
  });

  it('encodes the dataset name and the query', () => {
    expect(downloadUrl(datasetsUrl, 'a.b_c', 'f'.repeat(64), 'validation', 'trl-dpo')).toBe(
      `${datasetsUrl}/v1/datasets/a.b_c/snapshots/${'f'.repeat(64)}/download?split=validation&format=trl-dpo`,
    );
  });

  it('snapshots until two snapshots in a row are the same one (the service has caught up)', async () => {
    const ids = ['1', '2', '3', '3'].map((c) => c.repeat(64));
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      const id = ids[Math.min(seen.length - 1, ids.length - 1)];
      res.writeHead(seen.length === 4 ? 200 : 201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, sequence: 3, records: 5, splits: { train: 5 } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    let waits = 0;
    try {
      const settled = await settledSnapshot(`http://127.0.0.1:${port}`, 'llmk_k_s', 'pairs', {
        intervalMs: 1,
        timeoutMs: 10_000,
        onWait: () => waits++,
      });
      expect(settled.id).toBe('3'.repeat(64));
    } finally {
      server.close();
    }
    expect(seen).toEqual(Array(4).fill('POST /v1/datasets/pairs/snapshots Bearer llmk_k_s'));
    expect(waits).toBe(2);
  });
});
