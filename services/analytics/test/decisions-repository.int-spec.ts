/**
 * Two evaluators (replicas, each with its own connection) saving one phase's decision on the real
 * MongoDB-wire server: a save is a compare-and-set on the revision its evaluation read, so a save
 * computed from an older state never overwrites a newer one, and of concurrent saves from the same
 * revision exactly one is applied.
 */
import { testInfra } from '@llmops/testing';
import { createConnection, type Connection } from 'mongoose';
import { DECISION, type DecisionDoc, DecisionSchema } from '../src/persistence/analytics.schemas';
import {
  decisionId,
  type DecisionFields,
  DecisionsRepository,
} from '../src/persistence/decisions.repository';

const infra = testInfra();
const connections: Connection[] = [];
let a: DecisionsRepository;
let b: DecisionsRepository;

async function evaluator(): Promise<DecisionsRepository> {
  const connection = await createConnection(infra.mongoBaseUri, { dbName: infra.dbName }).asPromise();
  connections.push(connection);
  const model = connection.model<DecisionDoc>(DECISION, DecisionSchema);
  await model.ensureIndexes();
  return new DecisionsRepository(model);
}

const fields = (key: string, over: Partial<DecisionFields> = {}): DecisionFields => ({
  project: 'default',
  key,
  phase: 1,
  state: { arms: {} } as unknown as DecisionFields['state'],
  verdict: 'continue',
  published: null,
  publishedEventId: null,
  evaluation: { experimentKey: key } as unknown as DecisionFields['evaluation'],
  evaluatedAt: new Date().toISOString(),
  ...over,
});

const stored = (key: string) =>
  connections[0].collection('decisions').find({ key }).project({ _id: 1, revision: 1 }).toArray();

beforeAll(async () => {
  a = await evaluator();
  b = await evaluator();
});

afterAll(async () => {
  await connections[0]?.dropDatabase();
  for (const c of connections) await c.close();
});

it('a save from an older state is refused: a published winner is not overwritten by continue', async () => {
  expect(await a.save(fields('race'), 0)).toBe(true);
  const readByA = await a.find('default', 'race', 1, 'background');
  const readByB = await b.find('default', 'race', 1, 'background');
  expect(readByA?.revision).toBe(1);
  expect(readByB?.revision).toBe(1);

  expect(
    await a.save(fields('race', { verdict: 'winner', published: 'winner', publishedEventId: 'ev-1' }), 1),
  ).toBe(true);
  // B evaluated the state before A's save (less data: still `continue`, nothing published).
  expect(await b.save(fields('race'), readByB!.revision)).toBe(false);

  for (const reader of [a, b]) {
    expect(await reader.find('default', 'race', 1, 'request')).toMatchObject({
      decision: decisionId('default', 'race', 1),
      revision: 2,
      verdict: 'winner',
      published: 'winner',
      publishedEventId: 'ev-1',
    });
  }
  // B's next round starts from A's state.
  expect(await b.save(fields('race', { verdict: 'winner', published: 'winner' }), 2)).toBe(true);
  expect(await stored('race')).toEqual([{ _id: `${decisionId('default', 'race', 1)}^3`, revision: 3 }]);
});

it('of many concurrent saves from the same revision exactly one is applied', async () => {
  expect(await a.save(fields('many'), 0)).toBe(true);
  const saved = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      (i % 2 ? a : b).save(fields('many', { publishedEventId: `ev-${i}` }), 1),
    ),
  );
  expect(saved.filter(Boolean)).toHaveLength(1);
  const winner = saved.indexOf(true);
  expect(await a.find('default', 'many', 1, 'background')).toMatchObject({
    revision: 2,
    publishedEventId: `ev-${winner}`,
  });
  await expect(stored('many')).resolves.toEqual([
    { _id: `${decisionId('default', 'many', 1)}^2`, revision: 2 },
  ]);
});

it('reads a decision stored before revisions as revision 0 and replaces it on the next save', async () => {
  const id = decisionId('default', 'legacy', 1);
  const legacy = fields('legacy', { published: 'winner' });
  await connections[0].collection<{ _id: string }>('decisions').insertOne({ _id: id, ...legacy });
  const read = await b.find('default', 'legacy', 1, 'background');
  expect(read).toMatchObject({ _id: id, decision: id, revision: 0, published: 'winner' });
  expect(await b.save(fields('legacy', { published: 'winner' }), read!.revision)).toBe(true);
  expect(await a.save(fields('legacy'), read!.revision)).toBe(false);
  expect(await stored('legacy')).toEqual([{ _id: `${id}^1`, revision: 1 }]);
});
