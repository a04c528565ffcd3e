import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoKey, explain, HttpError } from '@llmops/demo';
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
