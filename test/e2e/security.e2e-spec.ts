/**
 * Identity across the platform, as operators and teams meet it: the six services as processes on
 * real Kafka and MongoDB, two projects and their keys created through the identity service's API
 * with the operator's key, then
 *  - revocation: a key that works at every service answers 401 everywhere within 5 s of its
 *    revocation through identity (the measured times are printed);
 *  - the audit trail: a prompt registered, an alias moved, an experiment created and started with
 *    one key are listed by identity's `GET /v1/audit` with that key id as the actor, and the
 *    `actor` and `since` filters select them;
 *  - tenancy: another project's key gets exactly the 404 of a missing resource for the first
 *    project's prompt, experiment and results (and cannot assign or ingest into its experiment).
 */
import { performance } from 'node:perf_hooks';
import { expectEventually, testInfra } from '@llmops/testing';
import { type ApiKey, probeKey } from '../support/keys';
import {
  httpJson,
  type RunningPlatform,
  SERVICE_NAMES,
  type ServiceName,
  startAllServices,
} from '../support/service-process';

const A = 'team-a';
const B = 'team-b';
/** The issue's bound on revocation: every service refuses a revoked key within 5 s. */
const REVOCATION_BOUND_MS = 5_000;

interface AuditRecord {
  project: string;
  time: string;
  actor: string;
  action: string;
  resource: string;
}

interface ErrorBody {
  error: { code: string; message: string };
}

describe('identity across the platform: revocation, audit trail, tenancy', () => {
  const infra = testInfra();
  let platform: RunningPlatform;
  const url = (name: ServiceName) => platform.url(name);

  /** One request with `key` (and a JSON body when given). */
  const send = (key: ApiKey, service: ServiceName, method: string, path: string, body?: unknown) =>
    httpJson(`${url(service)}${path}`, {
      method,
      headers: { ...key.header, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /** Like send, but anything but `expected` fails with the answer. */
  const must = async (
    expected: number,
    key: ApiKey,
    service: ServiceName,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> => {
    const res = await send(key, service, method, path, body);
    expect({ call: `${service} ${method} ${path}`, status: res.status, body: res.body }).toMatchObject({
      status: expected,
    });
    return res.body as Record<string, unknown>;
  };

  beforeAll(async () => {
    platform = await startAllServices(infra);
    await platform.identity.createProject(A, 'Team A');
    await platform.identity.createProject(B, 'Team B');
  }, 180_000);

  afterAll(async () => {
    await platform?.stop('SIGTERM');
  });

  it('a revoked key answers 401 at every service within 5 s of its revocation through identity', async () => {
    const key = await platform.identity.createKey(A, {
      name: 'revocation probe',
      scopes: ['prompts:read', 'experiments:read', 'ingest', 'results:read', 'datasets:read'],
    });
    // What the key does at each service: 2xx while it is valid (identity: 403, it has no admin scope).
    const use: Record<ServiceName, () => Promise<number>> = {
      registry: async () => (await send(key, 'registry', 'GET', '/v1/prompts?limit=1')).status,
      assignment: async () => (await send(key, 'assignment', 'GET', '/v1/experiments?limit=1')).status,
      feedback: async () =>
        (
          await send(key, 'feedback', 'POST', '/v1/feedback', {
            feedbackId: 'revocation-probe',
            requestId: 'revocation-probe',
            rating: 5,
            source: 'user',
          })
        ).status,
      analytics: async () =>
        (await send(key, 'analytics', 'GET', '/v1/feedback/unattributed?limit=1')).status,
      identity: () => probeKey(platform.services.get('identity')!, key),
      datasets: async () => (await send(key, 'datasets', 'GET', '/v1/datasets')).status,
    };
    const before = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (s) => [s, await use[s]()])));
    expect(before).toEqual({
      registry: 200,
      assignment: 200,
      feedback: 202,
      analytics: 200,
      identity: 403,
      datasets: 200,
    });

    const revokedAt = performance.now();
    await platform.identity.revokeKey(key);
    const acknowledgedMs = performance.now() - revokedAt;
    const refusedAfterMs = Object.fromEntries(
      await Promise.all(
        SERVICE_NAMES.map(async (service) => {
          // Polls as fast as one request at a time allows: the measurement is the first 401.
          while (performance.now() - revokedAt < REVOCATION_BOUND_MS * 2) {
            if ((await use[service]()) === 401) return [service, performance.now() - revokedAt];
          }
          return [service, Number.POSITIVE_INFINITY];
        }),
      ),
    ) as Record<ServiceName, number>;
    console.log(
      `revocation through identity (204 after ${acknowledgedMs.toFixed(0)} ms); first 401 after: ${SERVICE_NAMES.map(
        (s) => `${s} ${refusedAfterMs[s].toFixed(0)} ms`,
      ).join(', ')} (bound ${REVOCATION_BOUND_MS} ms)`,
    );
    for (const service of SERVICE_NAMES) {
      expect({ service, ms: refusedAfterMs[service] }).toEqual({ service, ms: expect.any(Number) });
      expect({ service, withinBound: refusedAfterMs[service] < REVOCATION_BOUND_MS }).toEqual({
        service,
        withinBound: true,
      });
    }
  }, 60_000);

  describe('with a project of prompts, an experiment and results', () => {
    let releaser: ApiKey;
    let app: ApiKey;
    let hash: string;
    const experiment = 'summary-length';

    beforeAll(async () => {
      [releaser, app] = await Promise.all([
        platform.identity.createKey(A, {
          name: 'release pipeline',
          scopes: ['prompts:write', 'prompts:read', 'prompts:promote', 'experiments:write'],
        }),
        platform.identity.createKey(A, { name: 'team-a app', scopes: ['assign', 'ingest', 'results:read'] }),
      ]);
    }, 60_000);

    it("lists a key's prompt, alias and experiment changes in identity's audit trail, with that key as the actor", async () => {
      const auditor = await platform.identity.createKey(A, { name: 'auditor', scopes: ['admin'] });
      const audit = async (query: string) =>
        (await must(200, auditor, 'identity', 'GET', `/v1/audit?limit=200${query}`)).items as AuditRecord[];

      const v1 = await must(201, releaser, 'registry', 'POST', '/v1/prompts/summarizer/versions', {
        spec: { template: 'Summarize: {text}', model: 'gpt-4o-mini' },
      });
      hash = v1.hash as string;
      await must(200, releaser, 'registry', 'PUT', '/v1/prompts/summarizer/aliases/production', {
        ref: hash,
      });
      // `since` just after the alias move's record: what follows is the experiment's changes only.
      const first = await expectEventually(
        async () => {
          const items = await audit(`&actor=${releaser.keyId}`);
          expect(items.map((r) => r.action).sort()).toEqual(['alias.moved', 'prompt.registered']);
          return items;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      const since = new Date(Math.max(...first.map((r) => Date.parse(r.time))) + 1).toISOString();

      await must(201, releaser, 'assignment', 'POST', '/v1/experiments', {
        key: experiment,
        arms: [
          { name: 'A', weight: 0.5, prompt: { name: 'summarizer', ref: hash } },
          { name: 'B', weight: 0.5, prompt: { name: 'summarizer', ref: 'production' } },
        ],
      });
      await must(200, releaser, 'assignment', 'POST', `/v1/experiments/${experiment}/start`, {});

      const mine = await expectEventually(
        async () => {
          const items = await audit(`&actor=${releaser.keyId}`);
          expect(items).toHaveLength(4);
          return items;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(
        mine.map(({ project, actor, action, resource }) => ({ project, actor, action, resource })).reverse(),
      ).toEqual([
        { project: A, actor: releaser.keyId, action: 'prompt.registered', resource: `summarizer@${hash}` },
        { project: A, actor: releaser.keyId, action: 'alias.moved', resource: 'summarizer/production' },
        { project: A, actor: releaser.keyId, action: 'experiment.created', resource: experiment },
        { project: A, actor: releaser.keyId, action: 'experiment.started', resource: experiment },
      ]);
      const sinceAlias = await audit(`&actor=${releaser.keyId}&since=${encodeURIComponent(since)}`);
      expect(sinceAlias.map((r) => r.action).sort()).toEqual(['experiment.created', 'experiment.started']);
      // Without the actor filter the project's trail also holds the keys the operator created.
      const all = await audit('');
      expect(all.filter((r) => r.actor === platform.admin.keyId).map((r) => r.action)).toContain(
        'key.created',
      );
      expect(all.every((r) => r.project === A)).toBe(true);
    }, 60_000);

    it("another project's key gets exactly the 404 of a missing resource for this project's prompt, experiment and results", async () => {
      const other = await platform.identity.createKey(B, {
        name: 'team-b everything',
        scopes: ['prompts:read', 'experiments:read', 'results:read', 'assign', 'ingest', 'admin'],
      });
      // Project A's own keys reach its resources (analytics and feedback learn the experiment from Kafka).
      await must(200, releaser, 'registry', 'GET', `/v1/prompts/summarizer/versions/${hash}`);
      const assigned = await must(200, app, 'assignment', 'POST', '/v1/assign', {
        experiment,
        userId: 'user-1',
      });
      await expectEventually(
        () => must(200, app, 'analytics', 'GET', `/v1/experiments/${experiment}/results`),
        { timeoutMs: 20_000, intervalMs: 250 },
      );
      const generation = (experimentKey: string) => ({
        requestId: `gen-${experimentKey}`,
        experiment: experimentKey,
        arm: assigned.arm,
        userId: 'user-1',
        model: 'gpt-4o-mini',
        output: 'A summary.',
        latencyMs: 700,
      });
      await expectEventually(
        () => must(202, app, 'feedback', 'POST', '/v1/generations', generation(experiment)),
        {
          timeoutMs: 10_000,
          intervalMs: 250,
        },
      );

      // For each: project B's key on A's resource, and on one that exists nowhere.
      const cases: Array<{
        service: ServiceName;
        method: string;
        of: 'prompt' | 'experiment';
        path: (name: string) => string;
        body?: (name: string) => unknown;
      }> = [
        {
          service: 'registry',
          method: 'GET',
          of: 'prompt',
          path: (n) => `/v1/prompts/${n}/versions/${hash}`,
        },
        {
          service: 'registry',
          method: 'GET',
          of: 'prompt',
          path: (n) => `/v1/prompts/${n}/aliases/production`,
        },
        { service: 'assignment', method: 'GET', of: 'experiment', path: (n) => `/v1/experiments/${n}` },
        {
          service: 'analytics',
          method: 'GET',
          of: 'experiment',
          path: (n) => `/v1/experiments/${n}/results`,
        },
        {
          service: 'assignment',
          method: 'POST',
          of: 'experiment',
          path: () => '/v1/assign',
          body: (n) => ({ experiment: n, userId: 'user-1' }),
        },
        {
          service: 'feedback',
          method: 'POST',
          of: 'experiment',
          path: () => '/v1/generations',
          body: generation,
        },
      ];
      for (const c of cases) {
        const real = c.of === 'prompt' ? 'summarizer' : experiment;
        const missing = `${real}-missing`;
        const theirs = await send(other, c.service, c.method, c.path(real), c.body?.(real));
        const none = await send(other, c.service, c.method, c.path(missing), c.body?.(missing));
        const call = `${c.service} ${c.method} ${c.path(real)}`;
        expect({ call, status: theirs.status }).toEqual({ call, status: 404 });
        // The same body as for a resource that does not exist, but for the name in it.
        const asMissing = JSON.parse(JSON.stringify(none.body).replaceAll(missing, real)) as ErrorBody;
        expect({ call, body: theirs.body }).toEqual({ call, body: asMissing });
      }
      // Nor does the other project's admin see this project's audit trail, or the project itself.
      const trail = await send(other, 'identity', 'GET', `/v1/audit?project=${A}`);
      const nowhere = await send(other, 'identity', 'GET', '/v1/audit?project=team-nowhere');
      expect(trail.status).toBe(404);
      expect(JSON.stringify(trail.body)).toBe(JSON.stringify(nowhere.body).replaceAll('team-nowhere', A));
    }, 90_000);
  });
});
