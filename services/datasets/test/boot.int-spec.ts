import { expectEventually, type TestInfra, testInfra } from '@llmops/testing';
import { type DatasetsTestApp, startDatasets } from './support/datasets-app';

describe('datasets service boot', () => {
  let infra: TestInfra;
  let svc: DatasetsTestApp;

  beforeAll(async () => {
    infra = await testInfra('datasets-boot');
    svc = await startDatasets(infra);
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
  });

  it('is live and ready with its consumer', async () => {
    const live = await svc.request<{ status: string }>('GET', '/health/live', undefined, null);
    expect(live.status).toBe(200);
    await expectEventually(
      async () => {
        const ready = await svc.request('GET', '/health/ready', undefined, null);
        expect(ready.status).toBe(200);
      },
      { timeoutMs: 30_000 },
    );
  });
});
