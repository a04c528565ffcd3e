/**
 * Key creation is a `write`: a flood of it from one key is throttled by the platform's per-key
 * limit (real Kafka and MongoDB), and the other keys of the project keep their own budget.
 */
import { KeyDirectory } from '@llmops/platform';
import { testInfra } from '@llmops/testing';
import { type IdentityTestApp, startIdentity } from './support/identity-app';

const infra = testInfra();
let identity: IdentityTestApp;

beforeAll(async () => {
  identity = await startIdentity(infra, { RATE_LIMIT_WRITE: '5' });
});

afterAll(async () => {
  await identity?.close();
});

async function adminKeyOf(project: string, name: string): Promise<string> {
  const created = await identity.request<{ key: string; keyId: string }>(
    'POST',
    `/v1/projects/${project}/keys`,
    {
      name,
      scopes: ['admin'],
    },
  );
  expect(created.status).toBe(201);
  await identity.app.get(KeyDirectory).waitFor(created.body.keyId);
  return created.body.key;
}

it("throttles a key-creation flood per key (429 with Retry-After); the project's other keys are unaffected", async () => {
  expect((await identity.request('POST', '/v1/projects', { id: 'flooded' })).status).toBe(201);
  const flooder = await adminKeyOf('flooded', 'flooder');
  const other = await adminKeyOf('flooded', 'other');

  // 20 at once against 5 per key and second: cut even if the flood straddles a window boundary.
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      identity.request(
        'POST',
        '/v1/projects/flooded/keys',
        { name: `flood ${i}`, scopes: ['ingest'] },
        flooder,
      ),
    ),
  );
  const limited = answers.filter((a) => a.status === 429);
  expect(limited.length).toBeGreaterThan(0);
  expect(answers.filter((a) => a.status !== 429).every((a) => a.status === 201)).toBe(true);
  expect(limited[0].headers['retry-after']).toBeDefined();
  expect(limited[0].body).toMatchObject({ error: { code: 'rate_limited' } });

  const calm = await identity.request(
    'POST',
    '/v1/projects/flooded/keys',
    { name: 'calm', scopes: ['ingest'] },
    other,
  );
  expect(calm.status).toBe(201);
});
