/** The arms limit over HTTP: every body that sets arms (create, update, new phase) is bounded. */
import { testInfra } from '@llmops/testing';
import { MAX_ARMS_PER_EXPERIMENT } from '../src/experiments/dto/experiment-fields';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { type ArmSpec, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type ErrorBody = {
  error: { code: string; message: string; details?: { issues?: Array<{ path: string; message: string }> } };
};

describe('arms per experiment', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;
  let prompt: ArmSpec['prompt'];

  const armsOf = (n: number): ArmSpec[] =>
    Array.from({ length: n }, (_, i) => ({ name: `arm-${i}`, weight: 1, prompt }));

  const expectTooManyArms = (res: { status: number; body: ErrorBody }) => {
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details?.issues).toEqual([{ path: 'arms', message: 'expected at most 20 arms' }]);
  };

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    [{ prompt }] = await registeredArms(registry, 'summarizer', [['A', 1]]);
  });
  afterAll(async () => {
    await app?.close();
    await registry?.stop();
  });

  it('is 20, and an experiment may use all of them', async () => {
    expect(MAX_ARMS_PER_EXPERIMENT).toBe(20);
    const res = await app.request<{ arms: unknown[] }>('POST', '/v1/experiments', {
      key: 'max-arms',
      arms: armsOf(MAX_ARMS_PER_EXPERIMENT),
    });
    expect(res.status).toBe(201);
    expect(res.body.arms).toHaveLength(MAX_ARMS_PER_EXPERIMENT);
  });

  it('400 with the path `arms` on create, update and new phase beyond the limit', async () => {
    const tooMany = armsOf(21);
    expectTooManyArms(
      await app.request<ErrorBody>('POST', '/v1/experiments', { key: 'too-many-arms', arms: tooMany }),
    );
    expect((await app.request('GET', '/v1/experiments/too-many-arms')).status).toBe(404);

    expect((await app.request('POST', '/v1/experiments', { key: 'grows', arms: armsOf(2) })).status).toBe(
      201,
    );
    expectTooManyArms(await app.request<ErrorBody>('PATCH', '/v1/experiments/grows', { arms: tooMany }));
    expect((await app.request('POST', '/v1/experiments/grows/start')).status).toBe(200);
    expectTooManyArms(
      await app.request<ErrorBody>('POST', '/v1/experiments/grows/phases', { arms: tooMany }),
    );
    const current = await app.request<{ arms: unknown[]; phase: number }>('GET', '/v1/experiments/grows');
    expect(current.body).toMatchObject({ phase: 1, arms: [expect.anything(), expect.anything()] });
  });
});
