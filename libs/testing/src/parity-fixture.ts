/**
 * The shared parity fixture (libs/experiments/fixtures/parity/experiments.json): experiments with
 * ramps, a layer, targeting, forced users and a paused one, over 100,000 users with cycling
 * attributes. The server's and the SDKs' parity tests create its experiments through the API with
 * `createParityExperiments`, then compare remote and local assignments for `parityUsers`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type AttributeValue = string | number | boolean;

export interface ParityArm {
  name: string;
  weight: number;
  prompt: { name: string; ref: string; hash: string };
}

/** One experiment as the fixture holds it: a served snapshot (key, arms, seed, ...). */
export type ParityExperiment = Record<string, unknown> & {
  key: string;
  description: string;
  status: string;
  arms: ParityArm[];
  control: string;
  trafficAllocation: number;
  seed: string;
  hashVersion: number;
  targeting?: unknown;
};

export interface ParityFixture {
  users: { prefix: string; count: number };
  attributes: Record<string, { cycle: AttributeValue[] } | string>;
  prompts: Array<{ name: string; spec: { template: string; model: string } }>;
  experiments: ParityExperiment[];
}

export const parityFixture: ParityFixture = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'experiments', 'fixtures', 'parity', 'experiments.json'), 'utf8'),
) as ParityFixture;

const cycles = Object.entries(parityFixture.attributes).flatMap(([name, v]) =>
  typeof v === 'string' ? [] : [[name, v.cycle] as const],
);

/** The attributes of fixture user number `i`. */
export function parityAttributes(i: number): Record<string, AttributeValue> {
  return Object.fromEntries(cycles.map(([name, cycle]) => [name, cycle[i % cycle.length]]));
}

/** Fixture users `from` to `from + count - 1` (clipped to the fixture's users). */
export function parityUsers(
  from = 0,
  count = parityFixture.users.count,
): Array<{ userId: string; attributes: Record<string, AttributeValue> }> {
  const n = Math.max(0, Math.min(count, parityFixture.users.count - from));
  return Array.from({ length: n }, (_, k) => ({
    userId: `${parityFixture.users.prefix}${from + k}`,
    attributes: parityAttributes(from + k),
  }));
}

/** `POST /v1/experiments` body of a fixture experiment: its definition without what the service sets. */
export function parityCreateRequest(e: ParityExperiment): Record<string, unknown> {
  const { key, description, arms, control, trafficAllocation, seed, hashVersion } = e;
  const optional = Object.fromEntries(
    (['layer', 'targeting', 'forced'] as const).filter((f) => f in e).map((f) => [f, e[f]]),
  );
  return {
    key,
    description,
    arms: arms.map((a) => ({
      name: a.name,
      weight: a.weight,
      prompt: { name: a.prompt.name, ref: a.prompt.ref },
    })),
    control,
    trafficAllocation,
    seed,
    hashVersion,
    ...optional,
  };
}

/** Sends a POST to the assignment service (path and JSON body); resolves with the status. */
export type AssignmentCall = (method: 'POST', path: string, body?: unknown) => Promise<{ status: number }>;

/**
 * Creates and starts every fixture experiment through the assignment API (pausing the paused
 * ones); throws naming the call that did not answer as expected.
 */
export async function createParityExperiments(call: AssignmentCall): Promise<void> {
  const expect = async (method: 'POST', path: string, status: number, body?: unknown) => {
    const res = await call(method, path, body);
    if (res.status !== status)
      throw new Error(`${method} ${path} answered ${res.status}, expected ${status}`);
  };
  for (const e of parityFixture.experiments) {
    await expect('POST', '/v1/experiments', 201, parityCreateRequest(e));
    await expect('POST', `/v1/experiments/${e.key}/start`, 200);
    if (e.status === 'paused') await expect('POST', `/v1/experiments/${e.key}/pause`, 200);
  }
}
