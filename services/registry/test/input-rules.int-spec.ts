/**
 * The registry's request fields follow the contracts' definitions: model names follow
 * MODEL_NAME_PATTERN, refs and cursors refuse control characters and lone surrogates, notes lone surrogates,
 * and every text and JSON string or key of a spec must be well-formed. Each refusal is a 400
 * naming the field, and nothing is stored.
 */
import { testInfra } from '@llmops/testing';
import { type RegistryTestApp, startRegistry } from './support/registry-app';

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: Array<{ path: string }> } };
}

const infra = testInfra();
let r: RegistryTestApp;

beforeAll(async () => {
  r = await startRegistry(infra);
});
afterAll(async () => {
  await r?.close();
});

const paths = (body: ErrorBody): string[] => (body.error.details?.issues ?? []).map((i) => i.path);

describe('registry input rules', () => {
  it.each<[string, Record<string, unknown>, string | ReturnType<typeof expect.stringMatching>]>([
    ['a model name with a space', { template: 't', model: 'gpt 4' }, 'spec.model'],
    ['NUL in the model name', { template: 't', model: 'gpt\u0000' }, 'spec.model'],
    ['a lone surrogate in the template', { template: 'Hi \ud800', model: 'm' }, 'spec.template'],
    [
      'a lone surrogate in a message',
      { messages: [{ role: 'user', content: '\udc00' }], model: 'm' },
      'spec.messages.0.content',
    ],
    [
      'a lone surrogate in a param value',
      { template: 't', model: 'm', params: { stop: ['\udbff'] } },
      'spec.params.stop.0',
    ],
    [
      'a lone surrogate in the system prompt',
      { template: 't', model: 'm', system: 'x\udfff' },
      'spec.system',
    ],
  ])(
    'registering a spec with %s is a 400 naming the field, and stores nothing',
    async (_name, spec, path) => {
      const res = await r.request<ErrorBody>('POST', '/v1/prompts/rules/versions', { spec });
      expect([res.status, paths(res.body)]).toEqual([400, [path]]);
      expect((await r.request('GET', '/v1/prompts/rules/latest')).status).toBe(404);
    },
  );

  it('accepts model names as providers write them', async () => {
    for (const model of [
      'gpt-4o-mini',
      'openai/gpt-4o',
      'llama3:8b',
      'anthropic.claude-3-sonnet-20240229-v1:0',
    ]) {
      const res = await r.request('POST', '/v1/prompts/models/versions', { spec: { template: 't', model } });
      expect([model, res.status]).toEqual([model, 201]);
    }
  });

  it('refs of an alias move and render refs refuse control characters; notes refuse lone surrogates', async () => {
    expect(
      (await r.request('POST', '/v1/prompts/moves/versions', { spec: { template: 't {x}', model: 'm' } }))
        .status,
    ).toBe(201);
    const badRef = await r.request<ErrorBody>('PUT', '/v1/prompts/moves/aliases/production', {
      ref: '1\u0000',
    });
    expect([badRef.status, paths(badRef.body)]).toEqual([400, ['ref']]);
    const badNote = await r.request<ErrorBody>('PUT', '/v1/prompts/moves/aliases/production', {
      ref: '1',
      note: 'ana\ud800',
    });
    expect([badNote.status, paths(badNote.body)]).toEqual([400, ['note']]);
    const longNote = await r.request<ErrorBody>('PUT', '/v1/prompts/moves/aliases/production', {
      ref: '1',
      note: 'n'.repeat(257),
    });
    expect([longNote.status, paths(longNote.body)]).toEqual([400, ['note']]);
    // The actor is the key: a claimed one is an unknown field.
    const claimed = await r.request<ErrorBody>('PUT', '/v1/prompts/moves/aliases/production', {
      ref: '1',
      actor: 'ana',
    });
    expect([claimed.status, paths(claimed.body)]).toEqual([400, ['actor']]);
    expect((await r.request('GET', '/v1/prompts/moves/aliases/production')).status).toBe(404);
    const badRender = await r.request<ErrorBody>('POST', '/v1/prompts/moves/render', {
      ref: 'latest\u0000',
      variables: { x: '1' },
    });
    expect([badRender.status, paths(badRender.body)]).toEqual([400, ['ref']]);
    const badVariable = await r.request<ErrorBody>('POST', '/v1/prompts/moves/render', {
      ref: 'latest',
      variables: { x: '\ud800' },
    });
    expect([badVariable.status, paths(badVariable.body)]).toEqual([400, ['variables.x']]);
    // An x-actor header means nothing: the move is the key's.
    const ok = await r.request<{ actor: string; note: string }>(
      'PUT',
      '/v1/prompts/moves/aliases/production',
      { ref: '1', note: 'ána 日\tok' },
      { 'x-actor': 'ana\tbob' },
    );
    expect([ok.status, ok.body.actor, ok.body.note]).toEqual([200, r.key.keyId, 'ána 日\tok']);
  });
});
