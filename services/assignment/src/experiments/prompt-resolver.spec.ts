import { type HttpStub, httpStub } from '@llmops/testing';
import type { AssignmentConfig } from '../config/assignment.config';
import type { ExperimentCaller } from './experiment-caller';
import { RegistryUnavailableError } from './experiments.errors';
import { PromptResolver } from './prompt-resolver';

const HASH = 'a'.repeat(64);

const caller: ExperimentCaller = {
  principal: { keyId: 'k1', project: 'default', scopes: new Set(['prompts:read', 'experiments:write']) },
  ctx: { correlationId: 'c1', traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` },
};

/**
 * A registry at a local port whose answer the test picks per prompt name: `silent` never answers,
 * `stalled` sends its headers and never its body, anything else answers the version.
 */
describe('PromptResolver: a registry that does not answer in time', () => {
  let server: HttpStub;
  let resolver: PromptResolver;

  beforeAll(async () => {
    server = await httpStub((req, res) => {
      const name = decodeURIComponent(req.url?.split('/')[3] ?? '');
      if (name === 'silent') return;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (name === 'stalled') res.write('{"hash":');
      else res.end(JSON.stringify({ hash: HASH }));
    });
    resolver = new PromptResolver({ REGISTRY_URL: server.url, REGISTRY_TIMEOUT_MS: 300 } as AssignmentConfig);
  });

  afterAll(() => server.close());

  it('resolves a ref the registry answers', async () => {
    await expect(
      resolver.resolve([{ arm: 'a', prompt: { name: 'ok', ref: 'production' } }], caller),
    ).resolves.toEqual([HASH]);
  });

  it.each(['silent', 'stalled'])('answers 503 at the deadline when the registry is %s', async (name) => {
    const started = Date.now();
    const outcome = resolver.resolve([{ arm: 'a', prompt: { name, ref: 'production' } }], caller);
    await expect(outcome).rejects.toBeInstanceOf(RegistryUnavailableError);
    await expect(outcome).rejects.toThrow('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
