/**
 * The route matrix: the six services as processes on real Kafka and MongoDB, and for every
 * operation of every service's OpenAPI document (GET /docs-json), the platform's route protection
 * as a caller meets it:
 *  - 401 without a key, and with a malformed, a revoked and an expired key;
 *  - 403 with a valid key of the same project that lacks the operation's scope (the document's
 *    `x-llmops-scope`);
 *  - another project's resource answers exactly what a missing one answers (404), and listings
 *    of another project name none of its resources (route-matrix.fixtures.ts says which applies);
 *  - success with a key holding only the operation's scope, drawing from the rate-limit budget of
 *    the document's `x-llmops-route-class`.
 * An operation without a fixture fails, so a new route fails CI until it is classified; the
 * README's route table must be the one the documents declare (`npm run docs:routes`), and each
 * service must serve the document committed as services/<name>/openapi.json (`npm run docs:openapi`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCOPES, type Scope } from '@llmops/contracts';
import { ROUTE_CLASSES, type RouteClass } from '@llmops/platform';
import {
  OPENAPI_REGENERATE,
  openApiDocumentDrift,
  openApiDocumentFile,
  operationName,
  operationsOf,
  type OpenApiDocument,
  readmeRouteTable,
  routeTableSection,
  SERVICES,
  type ServiceName,
} from '@llmops/route-table';
import {
  expectEventually,
  type IssuedTestKey,
  issueTestKey,
  revokeTestKey,
  TEST_KEY_PEPPER,
  testInfra,
} from '@llmops/testing';
import { httpJson, type ServiceProcess, startServiceProcess } from '../support/service-process';
import {
  bodies,
  FIXTURES,
  type MatrixRequest,
  MISSING_WORLD,
  type RouteFixture,
  type World,
} from './route-matrix.fixtures';

const PROJECT_A = 'matrix-a';
const PROJECT_B = 'matrix-b';
/** A third project, for the routes that create in the caller's own project. */
const PROJECT_C = 'matrix-c';
/**
 * Per-key limits far above what the matrix sends (the limits have tests of their own), one per
 * route class, so an answer's RateLimit-Limit header tells which budget the route drew from.
 */
const LIMITS: Record<RouteClass, number> = {
  assign: 1_000_001,
  ingest: 1_000_002,
  write: 1_000_003,
  read: 1_000_004,
};

interface Answer {
  status: number;
  body: unknown;
  /** The RateLimit-Limit header: the limit of the budget the request drew from. */
  limit?: string | null;
}

const scopeSetName = (scopes: readonly Scope[]) => [...scopes].sort().join(' ');

describe('route matrix: every operation of every service, with and without the right key', () => {
  const infra = testInfra();
  const services = new Map<ServiceName, ServiceProcess>();
  const documents = {} as Record<ServiceName, OpenApiDocument>;
  const keys = {} as {
    setup: IssuedTestKey;
    otherProject: IssuedTestKey;
    thirdProject: IssuedTestKey;
    revoked: IssuedTestKey;
    expired: IssuedTestKey;
  };
  /** Per scope, a key of project A holding every scope but that one. */
  const lacking = new Map<Scope, IssuedTestKey>();
  /** Per set of scopes (scopeSetName), a key of project A holding exactly those. */
  const holding = new Map<string, IssuedTestKey>();
  let world: World;

  const call = async (
    service: ServiceName,
    method: string,
    path: string,
    request: MatrixRequest,
    headers: Record<string, string>,
  ): Promise<Answer> => {
    const url = new URL(
      path.replace(/\{([^}]+)\}/g, (_, name: string) => {
        const value = request.params?.[name];
        if (value === undefined) throw new Error(`the fixture of ${method} ${path} gives no "${name}"`);
        return encodeURIComponent(value);
      }),
      services.get(service)!.url,
    );
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
    const withBody = request.body !== undefined;
    const res = await httpJson(url.toString(), {
      method,
      headers: { ...headers, ...(withBody ? { 'content-type': 'application/json' } : {}) },
      ...(withBody ? { body: JSON.stringify(request.body) } : {}),
    });
    return { status: res.status, body: res.body, limit: res.headers.get('ratelimit-limit') };
  };

  /** Setup calls with the all-scopes key of project A; anything but 2xx fails with the answer. */
  const setup = async (service: ServiceName, method: string, path: string, body?: unknown) => {
    const res = await call(service, method, path, { body }, keys.setup.header);
    if (res.status >= 300) {
      throw new Error(`setup ${service} ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body as Record<string, unknown>;
  };

  beforeAll(async () => {
    // Every key exists before the services start: a service is ready once it has read them all.
    const issue = (options: Parameters<typeof issueTestKey>[1]) => issueTestKey(infra, options);
    keys.setup = await issue({ project: PROJECT_A, name: 'matrix setup' });
    const everyScopeBut = (scope: Scope) =>
      // platform:admin also grants admin.
      SCOPES.filter((s) => s !== scope && !(scope === 'admin' && s === 'platform:admin'));
    const scopeSets = [
      ...SCOPES.map((s) => [s]),
      ...SERVICES.flatMap((s) =>
        Object.values(FIXTURES[s]).flatMap((f) => (f.successScopes ? [f.successScopes] : [])),
      ),
    ];
    const [otherProject, thirdProject, revoked, expired] = await Promise.all([
      issue({ project: PROJECT_B, scopes: everyScopeBut('platform:admin') }),
      issue({ project: PROJECT_C, scopes: everyScopeBut('platform:admin') }),
      issue({ project: PROJECT_A }),
      issue({ project: PROJECT_A, expiresAt: new Date(Date.now() - 60_000) }),
    ]);
    Object.assign(keys, { otherProject, thirdProject, revoked, expired });
    await Promise.all([
      ...SCOPES.map(async (s) =>
        lacking.set(s, await issue({ project: PROJECT_A, scopes: everyScopeBut(s) })),
      ),
      ...scopeSets.map(async (scopes) =>
        holding.set(scopeSetName(scopes), await issue({ project: PROJECT_A, scopes })),
      ),
    ]);
    await revokeTestKey(infra, revoked);

    const env = (name: ServiceName, own: Record<string, string> = {}) => ({
      KAFKA_BROKERS: infra.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      MONGODB_URI: infra.mongoBaseUri,
      MONGODB_DB: `${infra.dbName}_${name}`,
      LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
      RATE_LIMIT_ASSIGN: String(LIMITS.assign),
      RATE_LIMIT_INGEST: String(LIMITS.ingest),
      RATE_LIMIT_WRITE: String(LIMITS.write),
      RATE_LIMIT_READ: String(LIMITS.read),
      ...own,
    });
    const registry = await startServiceProcess('registry', env('registry'));
    services.set('registry', registry);
    const others = await Promise.all([
      startServiceProcess('assignment', env('assignment', { REGISTRY_URL: registry.url })),
      startServiceProcess('feedback', env('feedback')),
      startServiceProcess(
        'analytics',
        env('analytics', { ANALYTICS_CONSUMER_GROUP: `${infra.id}-analytics` }),
      ),
      startServiceProcess(
        'identity',
        env('identity', { IDENTITY_AUDIT_CONSUMER_GROUP: `${infra.id}-identity` }),
      ),
      startServiceProcess('datasets', env('datasets', { DATASETS_CONSUMER_GROUP: `${infra.id}-datasets` })),
    ]);
    for (const s of others) services.set(s.name as ServiceName, s);
    await Promise.all(
      [...services.values()].map((s) =>
        expectEventually(async () => expect((await httpJson(`${s.url}/health/ready`)).status).toBe(200), {
          timeoutMs: 90_000,
          intervalMs: 250,
        }).catch((err: Error) => {
          err.message += `\n--- ${s.name} output ---\n${s.output().slice(-4000)}`;
          throw err;
        }),
      ),
    );
    for (const name of SERVICES) {
      const res = await httpJson(`${services.get(name)!.url}/docs-json`);
      expect(res.status).toBe(200);
      documents[name] = res.body as OpenApiDocument;
    }

    // Project A's world: what the operations read and change.
    const w: World = {
      project: PROJECT_A,
      prompt: 'summarizer',
      v1: '',
      v2: '',
      alias: 'production',
      experiment: 'exp-main',
      draftToStart: 'exp-to-start',
      draftToPatch: 'exp-to-patch',
      runningToPause: 'exp-to-pause',
      runningToStop: 'exp-to-stop',
      runningForPhase: 'exp-for-phase',
      parkedRequest: 'matrix-parked-request',
      uncountedArm: 'matrix-uncounted-arm',
      keyId: '',
      keyToRevoke: '',
      projectToCreate: 'matrix-created',
      projectToDelete: 'matrix-deleted',
      dataset: 'support-pairs',
      snapshot: '',
      datasetToCreate: 'support-pairs-new',
      datasetToSnapshot: 'support-pairs-fresh',
      datasetToDelete: 'support-pairs-old',
    };
    for (const id of [PROJECT_A, PROJECT_B, PROJECT_C, w.projectToDelete]) {
      await setup('identity', 'POST', '/v1/projects', { id });
    }
    for (const field of ['keyId', 'keyToRevoke'] as const) {
      const created = await setup('identity', 'POST', `/v1/projects/${PROJECT_A}/keys`, {
        name: field,
        scopes: ['prompts:read'],
      });
      w[field] = created.keyId as string;
    }
    const versions = `/v1/prompts/${w.prompt}/versions`;
    w.v1 = (await setup('registry', 'POST', versions, bodies.version(1))).hash as string;
    w.v2 = (await setup('registry', 'POST', versions, bodies.version(2))).hash as string;
    await setup('registry', 'PUT', `/v1/prompts/${w.prompt}/aliases/${w.alias}`, { ref: w.v1 });
    for (const key of [
      w.experiment,
      w.draftToStart,
      w.draftToPatch,
      w.runningToPause,
      w.runningToStop,
      w.runningForPhase,
    ]) {
      await setup('assignment', 'POST', '/v1/experiments', bodies.experiment(w, key));
    }
    for (const key of [w.experiment, w.runningToPause, w.runningToStop, w.runningForPhase]) {
      await setup('assignment', 'POST', `/v1/experiments/${key}/start`, {});
    }
    for (const name of [w.dataset, w.datasetToSnapshot, w.datasetToDelete]) {
      await setup('datasets', 'POST', '/v1/datasets', bodies.dataset(w, name));
    }
    w.snapshot = (await setup('datasets', 'POST', `/v1/datasets/${w.dataset}/snapshots`)).id as string;
    world = w;
    // Feedback and analytics learn experiments from the experiments topic.
    await expectEventually(
      async () =>
        expect(
          (
            await call(
              'feedback',
              'POST',
              '/v1/generations',
              { body: bodies.generation(w, 'matrix-probe') },
              keys.setup.header,
            )
          ).status,
        ).toBe(202),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // What the analytics listings hold for project A: feedback whose generation never comes (parked,
    // unattributed) and a generation of an arm the experiment does not have (uncounted).
    const { experiment: _experiment, arm: _arm, ...unattributed } = bodies.feedback(w, w.parkedRequest);
    await setup('feedback', 'POST', '/v1/feedback', unattributed);
    await setup('feedback', 'POST', '/v1/generations', {
      ...bodies.generation(w, 'matrix-uncounted'),
      arm: w.uncountedArm,
    });
    await expectEventually(
      async () =>
        expect(
          (
            await call(
              'analytics',
              'GET',
              '/v1/experiments/{key}/results',
              { params: { key: w.experiment } },
              keys.setup.header,
            )
          ).status,
        ).toBe(200),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }, 150_000);

  afterAll(async () => {
    await Promise.all([...services.values()].map((s) => s.stop('SIGTERM')));
  });

  it('has a fixture for every operation of the six documents, and every fixture names an operation', () => {
    const operations = SERVICES.flatMap((s) => operationsOf(s, documents[s]));
    const unclassified = operations
      .filter((op) => !FIXTURES[op.service][operationName(op)])
      .map((op) => `classify ${operationName(op)} in route-matrix fixtures (${op.service})`);
    expect(unclassified).toEqual([]);
    const stale = SERVICES.flatMap((s) =>
      Object.keys(FIXTURES[s])
        .filter((name) => !operationsOf(s, documents[s]).some((op) => operationName(op) === name))
        .map((name) => `${s}: ${name} is in no OpenAPI document; remove its fixture`),
    );
    expect(stale).toEqual([]);
    const fixtures = SERVICES.reduce((n, s) => n + Object.keys(FIXTURES[s]).length, 0);
    expect(operations.length).toBe(fixtures);
    expect(operations.length).toBeGreaterThan(0);
  });

  it('finds in the README the route table the documents declare (npm run docs:routes writes it)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readmeRouteTable(readme)).toBe(routeTableSection(documents));
  });

  it(`serves the OpenAPI documents committed as services/<name>/openapi.json (${OPENAPI_REGENERATE} writes them)`, () => {
    const committed = (name: ServiceName): string | undefined => {
      try {
        return readFileSync(join(__dirname, '..', '..', openApiDocumentFile(name)), 'utf8');
      } catch {
        return undefined;
      }
    };
    const drift = SERVICES.flatMap(
      (name) => openApiDocumentDrift(name, committed(name), documents[name]) ?? [],
    );
    // Thrown rather than compared, so that the diff reads as the diff it is.
    if (drift.length > 0) throw new Error(drift.join('\n'));
  });

  /** The answer with the world's names replaced by placeholders (what "the same answer" compares). */
  const withoutNames = (answer: Answer, w: World): Answer => {
    let text = JSON.stringify(answer.body);
    const names = Object.entries(w).sort(([, a], [, b]) => b.length - a.length);
    for (const [field, value] of names) if (value) text = text.split(value).join(`<${field}>`);
    return { status: answer.status, body: JSON.parse(text) as unknown };
  };

  const checkOperation = async (service: ServiceName, name: string, fixture: RouteFixture) => {
    const op = operationsOf(service, documents[service]).find((o) => operationName(o) === name);
    if (!op) throw new Error(`${service} has no operation ${name}: remove its fixture`);
    // The document says what the route declares (x-llmops-scope, x-llmops-route-class).
    expect(SCOPES).toContain(op.scope);
    expect(ROUTE_CLASSES).toContain(op.routeClass);
    const scope = op.scope as Scope;
    const request = fixture.request(world);
    const send = (headers: Record<string, string>, req: MatrixRequest = request) =>
      call(service, op.method, op.path, req, headers);
    const codeOf = (answer: Answer) => (answer.body as { error?: { code?: string } }).error?.code;

    const malformed = { authorization: 'Bearer llmk_not-a-key' };
    for (const [who, headers] of Object.entries({
      'no key': {},
      'a malformed key': malformed,
      'a revoked key': keys.revoked.header,
      'an expired key': keys.expired.header,
    })) {
      const answer = await send(headers);
      expect({ who, status: answer.status, code: codeOf(answer) }).toEqual({
        who,
        status: 401,
        code: 'unauthenticated',
      });
    }

    const forbidden = await send(lacking.get(scope)!.header);
    expect({ without: scope, status: forbidden.status, code: codeOf(forbidden) }).toEqual({
      without: scope,
      status: 403,
      code: 'forbidden',
    });

    const cross = fixture.crossProject;
    const other = keys.otherProject.header;
    if (cross.kind === 'as-missing') {
      const answer = withoutNames(await send(other), world);
      const missing = withoutNames(await send(other, fixture.request(MISSING_WORLD)), MISSING_WORLD);
      expect(answer.status).toBe(cross.status ?? 404);
      expect(answer).toEqual(missing);
    } else if (cross.kind === 'listing') {
      const item = expect.objectContaining(cross.item(world)) as unknown;
      const itemsOf = (answer: Answer) =>
        (answer.body as Record<string, unknown[] | undefined>)[cross.list ?? 'items'];
      // Not empty by construction: project A's own key lists its item (analytics is asynchronous).
      await expectEventually(
        async () => expect(itemsOf(await send(keys.setup.header))).toContainEqual(item),
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const answer = await send(other);
      expect(answer.status).toBe(fixture.success);
      expect(itemsOf(answer)).toEqual(expect.any(Array));
      expect(itemsOf(answer)).not.toContainEqual(item);
      const text = JSON.stringify(answer.body);
      const named = Object.entries(world).filter(([, value]) => text.includes(value));
      expect(named.map(([field]) => field)).toEqual([]);
    } else if (cross.kind === 'own-project') {
      // A project of its own: what it creates must not change what project B's key sees.
      expect((await send(keys.thirdProject.header)).status).toBe(cross.status);
    }

    const scopes = fixture.successScopes ?? [scope];
    expect(scopes).toContain(scope);
    const success = await send(holding.get(scopeSetName(scopes))!.header);
    expect({
      with: scopes,
      status: success.status,
      body: success.status === fixture.success ? '' : success.body,
    }).toEqual({
      with: scopes,
      status: fixture.success,
      body: '',
    });
    // It drew from the budget of the class the document declares.
    expect({ class: op.routeClass, limit: success.limit }).toEqual({
      class: op.routeClass,
      limit: String(LIMITS[op.routeClass as RouteClass]),
    });
  };

  for (const service of SERVICES) {
    describe(service, () => {
      for (const [name, fixture] of Object.entries(FIXTURES[service])) {
        it(`${name}: 401 without a valid key, 403 without its scope, another project's resources unseen, success with its scope`, () =>
          checkOperation(service, name, fixture));
      }
    });
  }
});
