import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  completeSnapshot,
  demoKey,
  downloadInstructions,
  downloadUrl,
  type ExampleTruth,
  explain,
  HttpError,
  preferencePairCount,
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

  it('names the splits train, validation, then the others, whatever order the service lists them in', () => {
    const text = downloadInstructions({
      datasetsUrl,
      dataset: 'd',
      snapshot: { ...snapshot, records: 130, splits: { validation: 11, test: 10, train: 109 } },
      keyFrom: 'LLMOPS_API_KEY',
    });
    expect(text.split('\n')[0]).toContain('(130 pairs: train 109, validation 11, test 10)');
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

  it('counts the pairs the datasets service makes: corrections, then best with worst while ratings differ by the margin', () => {
    const example = (
      requestId: string,
      rating: number,
      input = 'doc',
      correction?: string,
    ): ExampleTruth => ({
      requestId,
      arm: 'A',
      input,
      output: `out ${requestId}`,
      rating,
      ...(correction === undefined ? {} : { correction }),
    });
    // Input "doc" rated 5, 5, 4, 3, 1, 1: 5/1 and 5/1 differ by 4, 4/3 by 1 (under the margin).
    const doc = [5, 5, 4, 3, 1, 1].map((r, i) => example(`d${i}`, r));
    expect(preferencePairCount(doc, 2)).toBe(2);
    expect(preferencePairCount(doc, 1)).toBe(3);
    expect(preferencePairCount(doc, 5)).toBe(0);
    // A correction is a pair of its own; ratings pair only within one input.
    const other = [example('o1', 5, 'other', 'better'), example('o2', 2, 'other')];
    expect(preferencePairCount([...doc, ...other], 2)).toBe(2 + 1 + 1);
    expect(preferencePairCount([example('x', 5), example('y', 1, 'elsewhere')], 1)).toBe(0);
  });

  it('snapshots until the snapshot holds the expected records, or says it is incomplete', async () => {
    const records = [0, 3, 5];
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      const n = records[Math.min(seen.length - 1, records.length - 1)];
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ id: String(n).repeat(64), sequence: seen.length, records: n, splits: { train: n } }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let waits = 0;
    try {
      const done = await completeSnapshot(base, 'llmk_k_s', 'pairs', 5, {
        intervalMs: 1,
        timeoutMs: 10_000,
        onWait: () => waits++,
      });
      expect(done).toEqual({
        snapshot: expect.objectContaining({ records: 5, sequence: 3 }),
        complete: true,
      });
      expect(seen).toEqual(Array(3).fill('POST /v1/datasets/pairs/snapshots Bearer llmk_k_s'));
      expect(waits).toBe(2);
      const late = await completeSnapshot(base, 'llmk_k_s', 'pairs', 6, { intervalMs: 1, timeoutMs: 0 });
      expect(late).toEqual({ snapshot: expect.objectContaining({ records: 5 }), complete: false });
    } finally {
      server.close();
    }
  });
});
