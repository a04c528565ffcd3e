import { parseOrThrow, type AppError } from '@llmops/platform';
import { createExperimentRequestSchema } from './dto/create-experiment.request';
import {
  applyPhase,
  applyTransition,
  applyUpdate,
  assertUpdateAllowed,
  changedFields,
  layerOverlaps,
} from './experiment-rules';
import { snapshot } from '@llmops/testing';

const NOW = '2025-02-01T00:00:00.000Z';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    return err as AppError;
  }
  throw new Error('expected an error');
}

const sameArms = snapshot().arms.map((a) => ({
  name: a.name,
  weight: a.weight,
  prompt: { name: a.prompt.name, ref: a.prompt.ref },
}));

describe('updates', () => {
  it('a running experiment refuses weight, arm, seed, hashVersion, control and layer changes with 409 pointing to phases', () => {
    const current = snapshot({ status: 'running' });
    const cases = [
      {
        arms: [
          { ...sameArms[0], weight: 0.2 },
          { ...sameArms[1], weight: 0.8 },
        ],
      },
      { seed: 'other' },
      { control: 'B' },
      { layer: { name: 'L', range: [0, 0.5] as [number, number] } },
    ];
    for (const request of cases) {
      const err = errorOf(() => assertUpdateAllowed(current, request, changedFields(current, request)));
      expect(err.status).toBe(409);
      expect(err.code).toBe('immutable_while_running');
      expect(err.message).toContain('/v1/experiments/exp/phases');
    }
  });

  it('paused counts as started too', () => {
    const current = snapshot({ status: 'paused' });
    const request = { seed: 'x' };
    expect(errorOf(() => assertUpdateAllowed(current, request, changedFields(current, request))).code).toBe(
      'immutable_while_running',
    );
  });

  it('sending the current arms unchanged is not a change', () => {
    const current = snapshot({ status: 'running' });
    expect(changedFields(current, { arms: sameArms })).toEqual([]);
  });

  it('running: traffic allocation may go up, not down; targeting, forced and description may change', () => {
    const current = snapshot({ status: 'running', trafficAllocation: 0.5 });
    const up = { trafficAllocation: 0.8, description: 'more', forced: { qa: 'B' } };
    assertUpdateAllowed(current, up, changedFields(current, up));
    const next = applyUpdate(current, up, undefined, NOW);
    expect(next).toMatchObject({
      trafficAllocation: 0.8,
      description: 'more',
      forced: { qa: 'B' },
      revision: 2,
      updatedAt: NOW,
    });
    const down = { trafficAllocation: 0.2 };
    const err = errorOf(() => assertUpdateAllowed(current, down, changedFields(current, down)));
    expect([err.status, err.code]).toEqual([409, 'allocation_decrease']);
  });

  it('a draft may change anything; null removes optional fields', () => {
    const current = snapshot({ status: 'draft', targeting: [{ attribute: 'a', op: 'equals', value: 1 }] });
    const request = { seed: 'new-seed', targeting: null };
    assertUpdateAllowed(current, request, changedFields(current, request));
    const next = applyUpdate(current, request, undefined, NOW);
    expect(next.seed).toBe('new-seed');
    expect(next).not.toHaveProperty('targeting');
  });

  it('a stopped experiment refuses every change', () => {
    const current = snapshot({ status: 'stopped' });
    expect(errorOf(() => assertUpdateAllowed(current, { description: 'x' }, ['description'])).code).toBe(
      'experiment_stopped',
    );
  });

  it('forced users must name existing arms (422)', () => {
    const current = snapshot({ status: 'draft' });
    const err = errorOf(() => applyUpdate(current, { forced: { qa: 'Z' } }, undefined, NOW));
    expect([err.status, err.code]).toEqual([422, 'invalid_experiment']);
  });
});

describe('lifecycle', () => {
  it('draft -> running -> paused -> running -> stopped', () => {
    let s = snapshot({ status: 'draft' });
    for (const [action, status] of [
      ['start', 'running'],
      ['pause', 'paused'],
      ['start', 'running'],
      ['stop', 'stopped'],
    ] as const) {
      const t = applyTransition(s, action, NOW)!;
      expect(t.previousStatus).toBe(s.status);
      expect(t.next.status).toBe(status);
      expect(t.next.revision).toBe(s.revision + 1);
      s = t.next;
    }
  });

  it('repeating the current status is a no-op', () => {
    expect(applyTransition(snapshot({ status: 'running' }), 'start', NOW)).toBeNull();
    expect(applyTransition(snapshot({ status: 'stopped' }), 'stop', NOW)).toBeNull();
  });

  it('refuses pause of a draft and anything but stop after stop (409 invalid_transition)', () => {
    expect(errorOf(() => applyTransition(snapshot({ status: 'draft' }), 'pause', NOW)).code).toBe(
      'invalid_transition',
    );
    expect(errorOf(() => applyTransition(snapshot({ status: 'stopped' }), 'start', NOW)).code).toBe(
      'invalid_transition',
    );
    expect(errorOf(() => applyTransition(snapshot({ status: 'stopped' }), 'pause', NOW)).status).toBe(409);
  });
});

describe('phases', () => {
  it('bumps the phase with a new default seed and may change weights', () => {
    const current = snapshot({ status: 'running' });
    const arms = [
      { ...current.arms[0], weight: 0.1 },
      { ...current.arms[1], weight: 0.9 },
    ];
    const { next, changes } = applyPhase(current, { arms: [] as never }, arms, NOW);
    expect(next).toMatchObject({ phase: 2, seed: 'exp#phase-2', status: 'running', revision: 2 });
    expect(next.arms.map((a) => a.weight)).toEqual([0.1, 0.9]);
    expect(changes).toEqual(['phase', 'seed', 'arms']);
  });

  it('refuses a reused seed, drafts and stopped experiments', () => {
    expect(
      errorOf(() => applyPhase(snapshot({ status: 'running' }), { seed: 'exp' }, undefined, NOW)).code,
    ).toBe('seed_reused');
    expect(errorOf(() => applyPhase(snapshot({ status: 'draft' }), {}, undefined, NOW)).code).toBe(
      'invalid_transition',
    );
    expect(errorOf(() => applyPhase(snapshot({ status: 'stopped' }), {}, undefined, NOW)).code).toBe(
      'experiment_stopped',
    );
  });
});

describe('layers', () => {
  it('finds overlapping live experiments of the same layer only', () => {
    const others = [
      snapshot({ key: 'a', layer: { name: 'L', range: [0, 0.5] } }),
      snapshot({ key: 'b', layer: { name: 'L', range: [0.5, 0.7] }, status: 'stopped' }),
      snapshot({ key: 'c', layer: { name: 'M', range: [0, 1] } }),
    ];
    expect(layerOverlaps('new', { name: 'L', range: [0.5, 1] }, others)).toEqual([]);
    expect(layerOverlaps('new', { name: 'L', range: [0.4, 0.6] }, others)).toEqual([
      { key: 'a', range: [0, 0.5] },
    ]);
    expect(layerOverlaps('a', { name: 'L', range: [0, 1] }, others)).toEqual([]);
  });
});

describe('create request', () => {
  const arms = [
    { name: 'A', weight: 1, prompt: { name: 'p', ref: 'production' } },
    { name: 'B', weight: 1, prompt: { name: 'p', ref: '2' } },
  ];

  it('applies defaults', () => {
    const body = parseOrThrow(createExperimentRequestSchema, { key: 'k', arms });
    expect(body).toMatchObject({ key: 'k', description: '', trafficAllocation: 1, hashVersion: 1 });
    expect(body.seed).toBeUndefined();
  });

  it.each([
    [{ key: 'Bad Key', arms }, 'key'],
    [{ key: 'snapshots', arms }, 'key'],
    [{ key: 'k', arms: arms.slice(0, 1) }, 'arms'],
    [{ key: 'k', arms: [arms[0], arms[0]] }, 'arms.1.name'],
    [{ key: 'k', arms: arms.map((a) => ({ ...a, weight: 0 })) }, 'arms'],
    [{ key: 'k', arms: [{ ...arms[0], weight: -1 }, arms[1]] }, 'arms.0.weight'],
    [{ key: 'k', arms, trafficAllocation: 0 }, 'trafficAllocation'],
    [{ key: 'k', arms, trafficAllocation: 1.5 }, 'trafficAllocation'],
    [{ key: 'k', arms, seed: '' }, 'seed'],
    [{ key: 'k', arms, hashVersion: 2 }, 'hashVersion'],
    [{ key: 'k', arms, control: 'Z' }, 'control'],
    [{ key: 'k', arms, forced: { qa: 'Z' } }, 'forced.qa'],
    [{ key: 'k', arms, layer: { name: 'L', range: [0.5, 0.5] } }, 'layer.range'],
    [{ key: 'k', arms, targeting: [{ attribute: 'a', op: 'like', value: 1 }] }, 'targeting.0.op'],
    [{ key: 'k', arms, targeting: [{ attribute: 'a', op: 'in', value: 1 }] }, 'targeting.0.values'],
    [{ key: 'k', arms, surprise: true }, 'surprise'],
  ])('rejects %j at %s', (body, path) => {
    const err = errorOf(() => parseOrThrow(createExperimentRequestSchema, body));
    expect(err.status).toBe(400);
    const issues = (err.details as { issues: Array<{ path: string }> }).issues;
    expect(issues.map((i) => i.path)).toContain(path);
  });
});
