/** Experiment rules through the HTTP API: creation errors, lifecycle, forced, targeting, immutability, phases, ramping. */
import { testInfra } from '@llmops/testing';
import { type AssignmentApp, type Reply, startAssignmentApp } from './support/assignment-app';
import { type ArmSpec, createRunning, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type Assign = {
  experiment: string;
  arm: string;
  prompt: { name: string; hash: string };
  inExperiment: boolean;
  reason: string;
  phase: number;
};
type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

describe('experiment rules over HTTP', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;
  let arms: ArmSpec[];

  const assign = (
    experiment: string,
    userId: string,
    attributes?: Record<string, unknown>,
  ): Promise<Reply<Assign>> =>
    app.request<Assign>('POST', '/v1/assign', { experiment, userId, ...(attributes ? { attributes } : {}) });

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    arms = await registeredArms(registry, 'summarizer', [
      ['A', 0.5],
      ['B', 0.5],
    ]);
  });
  afterAll(async () => {
    await app?.close();
    await registry?.stop();
  });

  describe('creating', () => {
    it('resolves refs (hash or version number) to full hashes and starts as a draft', async () => {
      const res = await app.request<Record<string, unknown>>('POST', '/v1/experiments', {
        key: 'create-ok',
        description: 'two summaries',
        arms: [arms[0], { ...arms[1], prompt: { name: 'summarizer', ref: '2' } }],
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        key: 'create-ok',
        status: 'draft',
        phase: 1,
        seed: 'create-ok',
        hashVersion: 1,
        trafficAllocation: 1,
        control: 'A',
        revision: 1,
        publishedRevision: 1,
      });
      const resolved = res.body.arms as Array<{ prompt: { ref: string; hash: string } }>;
      expect(resolved[0].prompt.hash).toBe(arms[0].prompt.ref);
      expect(resolved[1].prompt).toEqual({ name: 'summarizer', ref: '2', hash: arms[1].prompt.ref });
      expect((await app.request('GET', '/v1/experiments/create-ok')).body).toEqual(res.body);
      const list = await app.request<{ items: Array<{ key: string }> }>('GET', '/v1/experiments');
      expect(list.body.items.map((e) => e.key)).toContain('create-ok');
    });

    it('422 names the arm whose prompt ref is unknown', async () => {
      const res = await app.request<ErrorBody>('POST', '/v1/experiments', {
        key: 'bad-ref',
        arms: [arms[0], { name: 'fancy', weight: 1, prompt: { name: 'summarizer', ref: 'no-such-version' } }],
      });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('unknown_prompt_ref');
      expect(res.body.error.message).toContain('arm "fancy"');
      expect(res.body.error.details).toEqual({
        arms: [{ arm: 'fancy', prompt: 'summarizer', ref: 'no-such-version' }],
      });
      expect((await app.request('GET', '/v1/experiments/bad-ref')).status).toBe(404);
    });

    it('400 for invalid bodies, with the path of each problem', async () => {
      const res = await app.request<ErrorBody>('POST', '/v1/experiments', {
        key: 'Not A Key',
        arms: [arms[0]],
        trafficAllocation: 0,
        extra: 1,
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      const paths = (res.body.error.details!.issues as Array<{ path: string }>).map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['key', 'arms', 'trafficAllocation', 'extra']));
    });

    it('409 for a duplicate key and for overlapping layer ranges', async () => {
      expect((await app.request('POST', '/v1/experiments', { key: 'dup', arms })).status).toBe(201);
      const dup = await app.request<ErrorBody>('POST', '/v1/experiments', { key: 'dup', arms });
      expect([dup.status, dup.body.error.code]).toEqual([409, 'experiment_exists']);

      const layer = (range: [number, number]) => ({ name: 'checkout', range });
      expect(
        (await app.request('POST', '/v1/experiments', { key: 'layer-left', arms, layer: layer([0, 0.5]) }))
          .status,
      ).toBe(201);
      const overlap = await app.request<ErrorBody>('POST', '/v1/experiments', {
        key: 'layer-mid',
        arms,
        layer: layer([0.4, 0.6]),
      });
      expect([overlap.status, overlap.body.error.code]).toEqual([409, 'layer_overlap']);
      expect(
        (await app.request('POST', '/v1/experiments', { key: 'layer-right', arms, layer: layer([0.5, 1]) }))
          .status,
      ).toBe(201);
    });
  });

  describe('lifecycle', () => {
    it('draft, paused and stopped serve the control with reason not-running; running hashes', async () => {
      const body = { key: 'life', control: 'B', arms };
      expect((await app.request('POST', '/v1/experiments', body)).status).toBe(201);
      const notRunning = {
        experiment: 'life',
        arm: 'B',
        prompt: { name: 'summarizer', hash: arms[1].prompt.ref },
        inExperiment: false,
        reason: 'not-running',
        phase: 1,
      };
      expect((await assign('life', 'u1')).body).toEqual(notRunning);

      expect((await app.request('POST', '/v1/experiments/life/start')).body).toMatchObject({
        status: 'running',
        revision: 2,
      });
      expect((await assign('life', 'u1')).body).toMatchObject({ inExperiment: true, reason: 'hash' });

      expect((await app.request('POST', '/v1/experiments/life/pause')).body).toMatchObject({
        status: 'paused',
      });
      expect((await assign('life', 'u1')).body).toEqual(notRunning);
      expect((await app.request('POST', '/v1/experiments/life/start')).body).toMatchObject({
        status: 'running',
      });
      // Repeating the current status changes nothing.
      expect((await app.request('POST', '/v1/experiments/life/start')).body).toMatchObject({
        status: 'running',
        revision: 4,
      });
      // Also as `curl -X POST -d ''` sends it: an empty form-encoded body.
      const curlStyle = await app.app
        .getHttpAdapter()
        .getInstance()
        .inject({
          method: 'POST',
          url: '/v1/experiments/life/start',
          headers: { ...app.key.header, 'content-type': 'application/x-www-form-urlencoded' },
          payload: '',
        });
      expect(curlStyle.statusCode).toBe(200);
      expect(JSON.parse(curlStyle.body)).toMatchObject({ status: 'running', revision: 4 });

      expect((await app.request('POST', '/v1/experiments/life/stop')).body).toMatchObject({
        status: 'stopped',
      });
      expect((await assign('life', 'u1')).body).toEqual(notRunning);
    });

    it('refuses invalid transitions and changes after stop (409), unknown keys (404)', async () => {
      await app.request('POST', '/v1/experiments', { key: 'life-errors', arms });
      const pauseDraft = await app.request<ErrorBody>('POST', '/v1/experiments/life-errors/pause');
      expect([pauseDraft.status, pauseDraft.body.error.code]).toEqual([409, 'invalid_transition']);
      await app.request('POST', '/v1/experiments/life-errors/stop');
      const restart = await app.request<ErrorBody>('POST', '/v1/experiments/life-errors/start');
      expect([restart.status, restart.body.error.code]).toEqual([409, 'invalid_transition']);
      const patch = await app.request<ErrorBody>('PATCH', '/v1/experiments/life-errors', {
        description: 'x',
      });
      expect([patch.status, patch.body.error.code]).toEqual([409, 'experiment_stopped']);
      const missing = await app.request<ErrorBody>('POST', '/v1/experiments/nope/start');
      expect([missing.status, missing.body.error.code]).toEqual([404, 'experiment_not_found']);
    });
  });

  describe('forced users', () => {
    it('QA users get their forced arm (reason forced), overriding targeting and allocation', async () => {
      await createRunning(app, {
        key: 'forced',
        arms,
        trafficAllocation: 0.01,
        targeting: [{ attribute: 'country', op: 'equals', value: 'NZ' }],
        forced: { 'qa:alice': 'B', 'qa:bob': 'A' },
      });
      expect((await assign('forced', 'qa:alice')).body).toMatchObject({
        arm: 'B',
        inExperiment: true,
        reason: 'forced',
      });
      expect((await assign('forced', 'qa:bob')).body).toMatchObject({
        arm: 'A',
        inExperiment: true,
        reason: 'forced',
      });
      // Forced users can be changed while running.
      expect(
        (await app.request('PATCH', '/v1/experiments/forced', { forced: { 'qa:alice': 'A' } })).status,
      ).toBe(200);
      expect((await assign('forced', 'qa:alice')).body).toMatchObject({ arm: 'A', reason: 'forced' });
      expect((await assign('forced', 'qa:bob')).body).toMatchObject({
        inExperiment: false,
        reason: 'targeting',
      });
    });

    it('rejects forced users pointing to unknown arms and invalid user ids (400)', async () => {
      const unknownArm = await app.request<ErrorBody>('POST', '/v1/experiments', {
        key: 'forced-bad',
        arms,
        forced: { qa: 'Z' },
      });
      expect(unknownArm.status).toBe(400);
      expect(unknownArm.body.error.details!.issues).toEqual([
        { path: 'forced.qa', message: 'arm "Z" is not one of the arms' },
      ]);
      const emptyUser = await app.request<ErrorBody>('POST', '/v1/experiments', {
        key: 'forced-bad',
        arms,
        forced: { '': 'A' },
      });
      expect(emptyUser.status).toBe(400);
      const patch = await app.request<ErrorBody>('PATCH', '/v1/experiments/forced', { forced: { qa: 'Z' } });
      expect([patch.status, patch.body.error.code]).toEqual([422, 'invalid_experiment']);
    });
  });

  describe('targeting', () => {
    it('equals, in and notIn combine with AND; misses get the control with reason targeting', async () => {
      await createRunning(app, {
        key: 'targeted',
        arms,
        targeting: [
          { attribute: 'country', op: 'in', values: ['DE', 'FR'] },
          { attribute: 'beta', op: 'equals', value: true },
          { attribute: 'plan', op: 'notIn', values: ['free'] },
        ],
      });
      const hit = await assign('targeted', 'u1', { country: 'DE', beta: true, plan: 'pro' });
      expect(hit.body).toMatchObject({ inExperiment: true, reason: 'hash' });
      for (const attributes of [
        { country: 'US', beta: true },
        { country: 'DE', beta: 'true' },
        { country: 'DE', beta: true, plan: 'free' },
        undefined,
      ]) {
        expect((await assign('targeted', 'u1', attributes)).body).toMatchObject({
          arm: 'A',
          inExperiment: false,
          reason: 'targeting',
        });
      }
    });

    it('rejects malformed rules and attributes (400)', async () => {
      const rule = await app.request<ErrorBody>('POST', '/v1/experiments', {
        key: 'targeting-bad',
        arms,
        targeting: [{ attribute: 'country', op: 'regex', value: '.*' }],
      });
      expect(rule.status).toBe(400);
      const attrs = await app.request<ErrorBody>('POST', '/v1/assign', {
        experiment: 'targeted',
        userId: 'u',
        attributes: { nested: { a: 1 } },
      });
      expect(attrs.status).toBe(400);
      expect((attrs.body.error.details!.issues as Array<{ path: string }>)[0].path).toBe('attributes.nested');
    });
  });

  describe('immutability, ramping and phases', () => {
    it('409 for changing weights (or seed) while running, pointing to a new phase', async () => {
      await createRunning(app, { key: 'frozen', arms });
      const weights = await app.request<ErrorBody>('PATCH', '/v1/experiments/frozen', {
        arms: [
          { ...arms[0], weight: 0.9 },
          { ...arms[1], weight: 0.1 },
        ],
      });
      expect(weights.status).toBe(409);
      expect(weights.body.error.code).toBe('immutable_while_running');
      expect(weights.body.error.message).toContain('POST /v1/experiments/frozen/phases');
      expect(weights.body.error.details).toMatchObject({
        fields: ['arms'],
        newPhase: 'POST /v1/experiments/frozen/phases',
      });
      const seed = await app.request<ErrorBody>('PATCH', '/v1/experiments/frozen', { seed: 'other' });
      expect(seed.body.error.code).toBe('immutable_while_running');
      // The same arms again are not a change.
      expect((await app.request('PATCH', '/v1/experiments/frozen', { arms })).status).toBe(200);
      // Draft: weights may change.
      await app.request('POST', '/v1/experiments', { key: 'draft-weights', arms });
      const draft = await app.request<{ arms: Array<{ weight: number }> }>(
        'PATCH',
        '/v1/experiments/draft-weights',
        {
          arms: [
            { ...arms[0], weight: 0.9 },
            { ...arms[1], weight: 0.1 },
          ],
        },
      );
      expect(draft.status).toBe(200);
      expect(draft.body.arms.map((a) => a.weight)).toEqual([0.9, 0.1]);
    });

    it('ramping 0.1 -> 0.5 -> 1.0 while running never moves an included user', async () => {
      const three = await registeredArms(registry, 'ramp', [
        ['control', 0.2],
        ['short', 0.3],
        ['long', 0.5],
      ]);
      await createRunning(app, { key: 'ramp', arms: three, trafficAllocation: 0.1 });
      const users = Array.from({ length: 2_000 }, (_, i) => `ramp-user-${i}`);
      let previous = new Map<string, string>();
      for (const allocation of [0.1, 0.5, 1.0]) {
        if (allocation !== 0.1) {
          const patched = await app.request('PATCH', '/v1/experiments/ramp', {
            trafficAllocation: allocation,
          });
          expect(patched.status).toBe(200);
        }
        const current = new Map<string, string>();
        for (let i = 0; i < users.length; i += 1_000) {
          const items = users.slice(i, i + 1_000).map((userId) => ({ experiment: 'ramp', userId }));
          const res = await app.request<{ items: Assign[] }>('POST', '/v1/assign/batch', { items });
          res.body.items.forEach((r, j) => {
            if (r.inExperiment) current.set(users[i + j], r.arm);
            else expect(r.reason).toBe('not-in-allocation');
          });
        }
        expect([...previous].filter(([u, arm]) => current.get(u) !== arm)).toEqual([]);
        expect(Math.abs(current.size / users.length - allocation)).toBeLessThan(0.05);
        previous = current;
      }
      const down = await app.request<ErrorBody>('PATCH', '/v1/experiments/ramp', { trafficAllocation: 0.5 });
      expect([down.status, down.body.error.code]).toEqual([409, 'allocation_decrease']);
    });

    it('a new phase takes a new seed (and may change weights); assignments report the phase', async () => {
      await createRunning(app, { key: 'phased', arms });
      const users = Array.from({ length: 200 }, (_, i) => `phase-user-${i}`);
      const before = await app.request<{ items: Assign[] }>('POST', '/v1/assign/batch', {
        items: users.map((userId) => ({ experiment: 'phased', userId })),
      });
      const reused = await app.request<ErrorBody>('POST', '/v1/experiments/phased/phases', {
        seed: 'phased',
      });
      expect([reused.status, reused.body.error.code]).toEqual([409, 'seed_reused']);
      const phase = await app.request<Record<string, unknown>>('POST', '/v1/experiments/phased/phases', {
        arms: [
          { ...arms[0], weight: 0.8 },
          { ...arms[1], weight: 0.2 },
        ],
      });
      expect(phase.status).toBe(201);
      expect(phase.body).toMatchObject({ phase: 2, seed: 'phased#phase-2', status: 'running' });
      const after = await app.request<{ items: Assign[] }>('POST', '/v1/assign/batch', {
        items: users.map((userId) => ({ experiment: 'phased', userId })),
      });
      expect(after.body.items.every((r) => r.phase === 2)).toBe(true);
      expect(after.body.items.map((r) => r.arm)).not.toEqual(before.body.items.map((r) => r.arm));
      const draftPhase = await app.request<ErrorBody>('POST', '/v1/experiments/draft-weights/phases', {});
      expect([draftPhase.status, draftPhase.body.error.code]).toEqual([409, 'invalid_transition']);
    });
  });

  describe('assignment requests', () => {
    it('404 for an unknown experiment; per-item errors in a batch, in order', async () => {
      const res = await assign('does-not-exist', 'u1');
      expect([res.status, (res.body as unknown as ErrorBody).error.code]).toEqual([
        404,
        'experiment_not_found',
      ]);
      const batch = await app.request<{ items: Array<Record<string, unknown>> }>('POST', '/v1/assign/batch', {
        items: [
          { experiment: 'frozen', userId: 'u1' },
          { experiment: 'does-not-exist', userId: 'u2' },
          { experiment: 'frozen', userId: 'u3' },
        ],
      });
      expect(batch.status).toBe(200);
      expect(batch.body.items[0]).toMatchObject({ experiment: 'frozen', inExperiment: true });
      expect(batch.body.items[1]).toMatchObject({
        experiment: 'does-not-exist',
        userId: 'u2',
        error: { code: 'experiment_not_found' },
      });
      expect(batch.body.items[2]).toMatchObject({ experiment: 'frozen', inExperiment: true });
    });

    it('validates user ids (non-empty, <= 512, well-formed UTF-16), unknown fields and batch size', async () => {
      const cases: Array<[unknown, string]> = [
        [{ experiment: 'frozen', userId: '' }, 'userId'],
        [{ experiment: 'frozen', userId: 'x'.repeat(513) }, 'userId'],
        [{ experiment: 'frozen', userId: 'bad\ud800' }, 'userId'],
        [{ experiment: 'frozen', userId: 42 }, 'userId'],
        [{ experiment: 'frozen', userId: 'u', extra: 1 }, 'extra'],
      ];
      for (const [body, path] of cases) {
        const res = await app.request<ErrorBody>('POST', '/v1/assign', body);
        expect(res.status).toBe(400);
        expect((res.body.error.details!.issues as Array<{ path: string }>).map((i) => i.path)).toContain(
          path,
        );
      }
      expect((await assign('frozen', 'x'.repeat(512))).status).toBe(200);
      expect((await assign('frozen', '😀'.repeat(256))).status).toBe(200);
      const tooMany = await app.request<ErrorBody>('POST', '/v1/assign/batch', {
        items: Array.from({ length: 1_001 }, (_, i) => ({ experiment: 'frozen', userId: `u${i}` })),
      });
      expect(tooMany.status).toBe(400);
      expect((tooMany.body.error.details!.issues as Array<{ path: string }>)[0].path).toBe('items');
      const badItem = await app.request<ErrorBody>('POST', '/v1/assign/batch', {
        items: [{ experiment: 'frozen', userId: '' }],
      });
      expect((badItem.body.error.details!.issues as Array<{ path: string }>)[0].path).toBe('items.0.userId');
    });

    it('POST /v1/assign (a direct fastify route) keeps the platform conventions of the Nest routes', async () => {
      const fastify = app.app.getHttpAdapter().getInstance();
      const malformed = await fastify.inject({
        method: 'POST',
        url: '/v1/assign',
        headers: {
          ...app.key.header,
          'content-type': 'application/json',
          'x-correlation-id': 'direct-route-1',
        },
        payload: '{"experiment": "frozen", "userId": ',
      });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json<ErrorBody>().error.code).toBe('invalid_json');
      expect(malformed.headers['x-correlation-id']).toBe('direct-route-1');

      const tooLarge = await fastify.inject({
        method: 'POST',
        url: '/v1/assign',
        headers: { ...app.key.header, 'content-type': 'application/json' },
        payload: JSON.stringify({ experiment: 'frozen', userId: 'x'.repeat(5 * 1024 * 1024) }),
      });
      expect([tooLarge.statusCode, tooLarge.json<ErrorBody>().error.code]).toEqual([
        413,
        'payload_too_large',
      ]);

      const ok = await fastify.inject({
        method: 'POST',
        url: '/v1/assign',
        headers: {
          ...app.key.header,
          'content-type': 'application/json',
          'x-correlation-id': 'direct-route-2',
        },
        payload: JSON.stringify({ experiment: 'frozen', userId: 'conventions' }),
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['x-correlation-id']).toBe('direct-route-2');
      expect(ok.headers['content-type']).toMatch(/^application\/json/);

      // An unknown path (Nest's not-found handler) and a badly encoded one (which fastify answers
      // before the onRequest hooks): the platform's error body and the caller's id, both.
      for (const [url, status, code] of [
        ['/v1/no-such-route', 404, 'not_found'],
        ['/v1/%E0%A4%A', 400, 'invalid_url'],
      ] as const) {
        const answer = await fastify.inject({
          method: 'GET',
          url,
          headers: { 'x-correlation-id': 'early-1' },
        });
        expect([answer.statusCode, answer.json<ErrorBody>().error.code]).toEqual([status, code]);
        expect(answer.headers['x-correlation-id']).toBe('early-1');
      }

      const metrics = await fastify.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(
        /llmops_http_request_duration_seconds_count\{[^}]*route="\/v1\/assign"[^}]*status_code="200"/,
      );

      const doc = (await fastify.inject({ method: 'GET', url: '/docs-json' })).json<{
        paths: Record<string, Record<string, Record<string, unknown>>>;
      }>();
      const operation = doc.paths['/v1/assign']?.post;
      expect(operation).toMatchObject({
        tags: ['assignment'],
        operationId: 'assign',
        requestBody: { content: { 'application/json': { schema: { required: ['experiment', 'userId'] } } } },
        responses: { '200': {}, '400': {}, '404': {}, '503': {} },
      });
      expect(doc.paths['/v1/assign/batch']?.post).toBeDefined();
    });
  });
});

describe('registry unavailable', () => {
  const infra = testInfra();
  let app: AssignmentApp;
  beforeAll(async () => {
    // Port 9 (discard) on loopback: nothing listens, connections are refused.
    app = await startAssignmentApp(infra, { REGISTRY_URL: 'http://127.0.0.1:9', REGISTRY_TIMEOUT_MS: '500' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('503 registry_unavailable with Retry-After, and nothing is stored', async () => {
    const res = await app.request<ErrorBody>('POST', '/v1/experiments', {
      key: 'no-registry',
      arms: [
        { name: 'A', weight: 1, prompt: { name: 'p', ref: '1' } },
        { name: 'B', weight: 1, prompt: { name: 'p', ref: '2' } },
      ],
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('registry_unavailable');
    expect(res.headers['retry-after']).toBe('5');
    expect((await app.request('GET', '/v1/experiments/no-registry')).status).toBe(404);
  });
});
