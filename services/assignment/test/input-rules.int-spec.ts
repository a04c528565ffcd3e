/**
 * Ids, names and numbers of the assignment API follow the contracts' definitions: control
 * characters and lone surrogates are refused in ids, arm names follow ARM_NAME_PATTERN, weights
 * are bounded; each refusal is a 400 naming the field. User ids take any other Unicode.
 */
import { ARM_WEIGHT_MAX } from '@llmops/contracts';
import { testInfra } from '@llmops/testing';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { type ArmSpec, createRunning, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type ErrorBody = { error: { code: string; message: string; details?: { issues?: Array<{ path: string }> } } };

describe('assignment input rules (ids, names, bounds)', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;
  let arms: ArmSpec[];

  const paths = (body: ErrorBody): string[] => (body.error.details?.issues ?? []).map((i) => i.path);

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    arms = await registeredArms(registry, 'inputs', [
      ['A', 0.5],
      ['B', 0.5],
    ]);
    await createRunning(app, { key: 'inputs', arms });
  });
  afterAll(async () => {
    await app?.close();
    await registry?.stop();
  });

  it('refuses user ids with NUL, other C0 or C1 control characters or a lone surrogate, with the path', async () => {
    for (const userId of [
      'u\u0000',
      '\u0000',
      'a\u0001b',
      'u\u007f',
      'u\u0085',
      'u\u009f',
      'u\ud800',
      '\udc00u',
    ]) {
      const single = await app.request<ErrorBody>('POST', '/v1/assign', { experiment: 'inputs', userId });
      expect([JSON.stringify(userId), single.status, paths(single.body)]).toEqual([
        JSON.stringify(userId),
        400,
        ['userId'],
      ]);
      const batch = await app.request<ErrorBody>('POST', '/v1/assign/batch', {
        items: [
          { experiment: 'inputs', userId: 'ok' },
          { experiment: 'inputs', userId },
        ],
      });
      expect([JSON.stringify(userId), batch.status, paths(batch.body)]).toEqual([
        JSON.stringify(userId),
        400,
        ['items.1.userId'],
      ]);
    }
  });

  it('assigns any other Unicode user id, the same arm every time', async () => {
    for (const userId of ['ü:日', 'a b', '\u{1F600}'.repeat(256), '\u00a0', 'x'.repeat(512)]) {
      const first = await app.request<{ arm: string }>('POST', '/v1/assign', {
        experiment: 'inputs',
        userId,
      });
      const again = await app.request<{ arm: string }>('POST', '/v1/assign', {
        experiment: 'inputs',
        userId,
      });
      expect([first.status, again.body.arm]).toEqual([200, first.body.arm]);
    }
  });

  it('refuses experiment keys off the pattern and attributes with control characters or lone surrogates', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ experiment: 'inputs\u0000', userId: 'u' }, 'experiment'],
      [{ experiment: 'Inputs', userId: 'u' }, 'experiment'],
      [{ experiment: 'inputs', userId: 'u', attributes: { 'plan\u0000': 'pro' } }, 'attributes.plan\u0000'],
      [{ experiment: 'inputs', userId: 'u', attributes: { plan: 'pro\ud800' } }, 'attributes.plan'],
    ];
    for (const [body, path] of cases) {
      const res = await app.request<ErrorBody>('POST', '/v1/assign', body);
      expect([path, res.status, paths(res.body)]).toEqual([path, 400, [path]]);
    }
  });

  it('refuses experiments with unbounded weights, bad arm names, and control characters in seeds, forced users and layers', async () => {
    const base = (patch: Record<string, unknown>, i: number) => ({ key: `bad-${i}`, arms, ...patch });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ arms: [{ ...arms[0], weight: 1e300 }, arms[1]] }, 'arms.0.weight'],
      [{ arms: [{ ...arms[0], weight: ARM_WEIGHT_MAX * 2 }, arms[1]] }, 'arms.0.weight'],
      [{ arms: [arms[0], { ...arms[1], name: 'B B' }] }, 'arms.1.name'],
      [{ arms: [arms[0], { ...arms[1], name: 'B\u0000' }] }, 'arms.1.name'],
      [{ seed: 'seed\u0000' }, 'seed'],
      [{ seed: 'seed\ud800' }, 'seed'],
      [{ forced: { 'qa\u0000': 'A' } }, 'forced.qa\u0000'],
      [{ layer: { name: 'layer\u0085', range: [0, 0.5] } }, 'layer.name'],
      [{ description: 'half \udfff' }, 'description'],
      [{ targeting: [{ attribute: 'plan', op: 'equals', value: 'pro\ud800' }] }, 'targeting.0.value'],
    ];
    for (const [i, [patch, path]] of cases.entries()) {
      const res = await app.request<ErrorBody>('POST', '/v1/experiments', base(patch, i));
      expect([path, res.status, paths(res.body)]).toEqual([path, 400, expect.arrayContaining([path])]);
      expect((await app.request('GET', `/v1/experiments/bad-${i}`)).status).toBe(404);
    }
    const ok = await app.request('POST', '/v1/experiments', {
      key: 'bounded-ok',
      arms: [
        { ...arms[0], weight: ARM_WEIGHT_MAX },
        { ...arms[1], name: 'b.v2:x_y-z' },
      ],
      seed: 'ünïcode seed',
    });
    expect(ok.status).toBe(201);
  });
});
