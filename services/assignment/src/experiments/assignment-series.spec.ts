import { DEFAULT_PROJECT } from '@llmops/contracts';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ExperimentStore, MAX_ASSIGNMENT_SERIES } from './experiment-store';
import { snapshot } from '@llmops/testing';

const seriesOf = async (registry: Registry): Promise<string[]> =>
  (await registry.metrics()).split('\n').filter((l) => l.startsWith('llmops_assignments_total{'));

const arms = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    name: `arm-${i}`,
    weight: 1,
    prompt: { name: 'p', ref: '1', hash: 'a'.repeat(64) },
  }));

describe('llmops_assignments_total series', () => {
  it(`stays within ${MAX_ASSIGNMENT_SERIES} label sets plus one per reason, and still counts everything`, async () => {
    const registry = new Registry();
    const store = new ExperimentStore(registry, pino({ level: 'silent' }));
    for (let i = 0; i < 50; i++)
      store.apply(
        DEFAULT_PROJECT,
        snapshot({ key: `exp-${i}`, seed: `exp-${i}`, arms: arms(20), control: 'arm-0' }),
        'topic',
      );

    let served = 0;
    for (let i = 0; i < 50; i++) {
      const e = store.get(DEFAULT_PROJECT, `exp-${i}`)!;
      for (let u = 0; u < 20; u++, served++) e.assign(`user-${u}`);
    }
    const series = await seriesOf(registry);
    const others = series.filter((l) => l.includes('experiment="_other",arm="_other"'));
    expect(others.length).toBeGreaterThan(0);
    expect(series.length - others.length).toBeLessThanOrEqual(MAX_ASSIGNMENT_SERIES);
    expect(others.length).toBeLessThanOrEqual(10);
    const total = series.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    expect(total).toBe(served);
    // The first experiments keep their own series.
    expect(series.some((l) => l.includes('experiment="exp-0",arm="arm-0"'))).toBe(true);
  });
});
