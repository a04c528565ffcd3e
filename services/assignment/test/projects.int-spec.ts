/**
 * Projects (real Kafka, MongoDB and registry): two projects each have an experiment `shared` whose
 * arms name prompt `summarizer` by version number, and each resolves, lists, reads and assigns its
 * own; another project's experiment answers exactly what a missing one answers on every route;
 * layers are per project; events carry the project (experiment snapshots keyed
 * `<project>/<key>`); a replica with an empty database learns every project's experiments from
 * the topic; an experiment stored before projects existed belongs to `default` after the boot.
 */
import { DEFAULT_PROJECT, EVENT_TYPES, parseEvent, projectOf, TOPICS, topicName } from '@llmops/contracts';
import { KeyDirectory, uuidv7 } from '@llmops/platform';
import {
  expectEventually,
  type IssuedTestKey,
  snapshot,
  startTopicReader,
  testInfra,
  type TopicReader,
} from '@llmops/testing';
import mongoose from 'mongoose';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { createRunning } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type Experiment = {
  key: string;
  status: string;
  revision: number;
  description: string;
  updatedAt: string;
  arms: Array<{ prompt: { hash: string } }>;
};
const state = ({ status, revision, description, updatedAt }: Experiment) => ({
  status,
  revision,
  description,
  updatedAt,
});
type Page = { items: Experiment[] };
type Assign = { arm: string; inExperiment: boolean; prompt: { hash: string } };
type ErrorBody = { error: { code: string; message: string } };

/** Arms naming `summarizer` by version number: what the number means depends on the project. */
const ARMS = [
  { name: 'A', weight: 1, prompt: { name: 'summarizer', ref: '1' } },
  { name: 'B', weight: 1, prompt: { name: 'summarizer', ref: '2' } },
];
const USERS = Array.from({ length: 40 }, (_, i) => `user-${i}`);

describe('projects', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;
  let replica: AssignmentApp | undefined;
  let teamA: IssuedTestKey;
  let teamB: IssuedTestKey;
  let teamC: IssuedTestKey;
  const hashes: Record<string, string[]> = {};
  let exposures: TopicReader;
  let experiments: TopicReader;

  beforeAll(async () => {
    // An experiment as stored before projects existed, with the index of that version.
    const connection = await mongoose.createConnection(infra.mongoUri).asPromise();
    try {
      const legacy = snapshot({ key: 'legacy', seed: 'legacy', revision: 1 });
      await connection.collection('experiments').insertOne({
        _id: 'legacy' as never,
        snapshot: legacy,
        pendingEvent: { id: uuidv7(), type: EVENT_TYPES.experimentCreated, changedAt: legacy.createdAt },
        unpublished: false,
        publishedRevision: 1,
      });
      await connection
        .collection('experiments')
        .createIndex({ 'snapshot.layer.name': 1 }, { name: 'snapshot_layer_name_1' });
    } finally {
      await connection.close();
    }
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    [teamA, teamB, teamC] = await Promise.all(
      ['team-a', 'team-b', 'team-c'].map((project) => app.issueKey({ project, name: project })),
    );
    // Version 1 and 2 of `summarizer` differ between the projects (a hash is the same in both).
    hashes['team-a'] = [
      await registry.register('summarizer', 'Variant A: {text}', undefined, teamA),
      await registry.register('summarizer', 'Variant B: {text}', undefined, teamA),
    ];
    hashes['team-b'] = [
      await registry.register('summarizer', 'Only in team-b: {text}', undefined, teamB),
      await registry.register('summarizer', 'Variant A: {text}', undefined, teamB),
    ];
    exposures = await startTopicReader(infra.kafkaBrokers, topicName(TOPICS.exposures, infra.topicPrefix));
    experiments = await startTopicReader(
      infra.kafkaBrokers,
      topicName(TOPICS.experiments, infra.topicPrefix),
    );
  }, 120_000);

  afterAll(async () => {
    await exposures?.stop();
    await experiments?.stop();
    await replica?.close();
    await app?.close();
    await registry?.stop();
  });

  it('two projects have an experiment of one key each, with prompt refs resolved in their own project', async () => {
    await createRunning(app, { key: 'shared', arms: ARMS }, teamA.header);
    await createRunning(app, { key: 'shared', arms: ARMS }, teamB.header);
    for (const [team, key] of [
      ['team-a', teamA],
      ['team-b', teamB],
    ] as const) {
      const res = await app.request<Experiment>('GET', '/v1/experiments/shared', undefined, key.header);
      expect(res.status).toBe(200);
      expect(res.body.arms.map((a) => a.prompt.hash)).toEqual(hashes[team]);
      const list = await app.request<Page>('GET', '/v1/experiments', undefined, key.header);
      expect(list.body.items.map((e) => e.key)).toEqual(['shared']);
      for (const userId of USERS) {
        const assigned = await app.request<Assign>(
          'POST',
          '/v1/assign',
          { experiment: 'shared', userId },
          key.header,
        );
        expect(assigned.status).toBe(200);
        expect(hashes[team]).toContain(assigned.body.prompt.hash);
      }
    }
    // Team C has no prompt `summarizer`: its refs resolve to nothing, whatever other projects have.
    const unresolved = await app.request<ErrorBody>(
      'POST',
      '/v1/experiments',
      { key: 'shared', arms: ARMS },
      teamC.header,
    );
    expect(unresolved.status).toBe(422);
    expect(unresolved.body.error.code).toBe('unknown_prompt_ref');
    // `default` sees neither.
    const list = await app.request<Page>('GET', '/v1/experiments');
    expect(list.body.items.map((e) => e.key)).toEqual(['legacy']);
  });

  it("answers another project's experiment exactly as a missing one, on every route, and changes nothing", async () => {
    await createRunning(app, { key: 'only-a', arms: ARMS }, teamA.header);
    const before = await app.request<Experiment>('GET', '/v1/experiments/only-a', undefined, teamA.header);
    const calls: Array<[method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown]> = [
      ['GET', '/v1/experiments/only-a'],
      ['PATCH', '/v1/experiments/only-a', { description: 'taken over' }],
      ['POST', '/v1/experiments/only-a/start'],
      ['POST', '/v1/experiments/only-a/pause'],
      ['POST', '/v1/experiments/only-a/stop'],
      ['POST', '/v1/experiments/only-a/phases', {}],
      ['POST', '/v1/assign', { experiment: 'only-a', userId: 'u1' }],
      ['POST', '/v1/assign/batch', { items: [{ experiment: 'only-a', userId: 'u1' }] }],
    ];
    for (const [method, url, body] of calls) {
      // Team B's key (another project's experiment) and team C's (a project with none at all).
      const other = await app.request(method, url, body, teamB.header);
      const missing = await app.request(method, url, body, teamC.header);
      expect([method, url, other.status, other.body]).toEqual([method, url, missing.status, missing.body]);
      if (url.endsWith('/batch')) {
        expect(other.body).toEqual({
          items: [
            {
              experiment: 'only-a',
              userId: 'u1',
              error: expect.objectContaining({ code: 'experiment_not_found' }),
            },
          ],
        });
      } else {
        expect([url, other.status, (other.body as ErrorBody).error.code]).toEqual([
          url,
          404,
          'experiment_not_found',
        ]);
      }
    }
    const after = await app.request<Experiment>('GET', '/v1/experiments/only-a', undefined, teamA.header);
    expect(state(after.body)).toEqual(state(before.body));
    expect(after.body).toMatchObject({ status: 'running', revision: 2 });
  });

  it('checks layer overlaps within a project only', async () => {
    const layered = (key: string, range: [number, number]) => ({
      key,
      arms: ARMS,
      layer: { name: 'homepage', range },
    });
    const a1 = await app.request('POST', '/v1/experiments', layered('layer-1', [0, 0.6]), teamA.header);
    expect(a1.status).toBe(201);
    const b1 = await app.request('POST', '/v1/experiments', layered('layer-1', [0.2, 1]), teamB.header);
    expect(b1.status).toBe(201);
    const a2 = await app.request<ErrorBody>(
      'POST',
      '/v1/experiments',
      layered('layer-2', [0.5, 1]),
      teamA.header,
    );
    expect(a2.status).toBe(409);
    expect(a2.body.error.code).toBe('layer_overlap');
  });

  it('puts the project on exposures and experiment snapshots, keyed <project>/<key> on the compacted topic', async () => {
    await expectEventually(() => {
      const keys = experiments.records
        .filter((r) => r.key?.endsWith('/shared'))
        .map((r) => {
          const event = parseEvent(r.value);
          return `${r.key} ${projectOf(event)} ${(event.data as { experiment: { key: string } }).experiment.key}`;
        });
      expect(keys).toEqual(
        expect.arrayContaining(['team-a/shared team-a shared', 'team-b/shared team-b shared']),
      );
      expect(experiments.records.some((r) => r.key === 'shared')).toBe(false);
    });
    await expectEventually(() => {
      const byProject = new Map<string, number>();
      for (const r of exposures.records) {
        const event = parseEvent(r.value);
        if ((event.data as { experiment: string }).experiment !== 'shared') continue;
        expect(r.key).toBe(`shared:${(event.data as { userId: string }).userId}`);
        byProject.set(projectOf(event), (byProject.get(projectOf(event)) ?? 0) + 1);
      }
      expect(byProject).toEqual(
        new Map([
          ['team-a', USERS.length],
          ['team-b', USERS.length],
        ]),
      );
    });
  });

  it("a replica with an empty database learns every project's experiments from the topic", async () => {
    replica = await startAssignmentApp(infra, {
      REGISTRY_URL: registry.url,
      MONGODB_DB: `${infra.dbName}_replica`,
    });
    const keys = replica.app.get(KeyDirectory);
    await Promise.all([teamA, teamB].map((k) => keys.waitFor(k.keyId)));
    for (const key of [teamA, teamB]) {
      const expected = await app.request<{ items: Assign[] }>(
        'POST',
        '/v1/assign/batch',
        { items: USERS.map((userId) => ({ experiment: 'shared', userId })) },
        key.header,
      );
      await expectEventually(async () => {
        const res = await replica!.request<{ items: Assign[] }>(
          'POST',
          '/v1/assign/batch',
          { items: USERS.map((userId) => ({ experiment: 'shared', userId })) },
          key.header,
        );
        expect(res.body).toEqual(expected.body);
      });
    }
    const notInDefault = await replica.request<ErrorBody>('POST', '/v1/assign', {
      experiment: 'only-a',
      userId: 'u1',
    });
    expect(notInDefault.status).toBe(404);
  });

  it('moves an experiment stored before projects to default at boot, and drops the index it replaced', async () => {
    const legacy = await app.request<Experiment>('GET', '/v1/experiments/legacy');
    expect(legacy.status).toBe(200);
    expect(legacy.body).toMatchObject({ key: 'legacy', status: 'running', revision: 1 });
    const assigned = await app.request<Assign>('POST', '/v1/assign', { experiment: 'legacy', userId: 'u1' });
    expect(assigned.body.inExperiment).toBe(true);
    const elsewhere = await app.request('GET', '/v1/experiments/legacy', undefined, teamA.header);
    expect(elsewhere.status).toBe(404);
    const connection = await mongoose.createConnection(infra.mongoUri).asPromise();
    try {
      const collection = connection.collection('experiments');
      expect(await collection.findOne({ _id: 'legacy' as never })).toMatchObject({
        project: DEFAULT_PROJECT,
      });
      expect(await collection.countDocuments({ project: { $exists: false } })).toBe(0);
      const names = (await collection.listIndexes().toArray()).map((i) => String(i.name));
      expect(names).not.toContain('snapshot_layer_name_1');
      expect(names).toContain('project_1_snapshot_layer_name_1');
    } finally {
      await connection.close();
    }
  });
});
