import { type TestInfra, testInfra } from '@llmops/testing';
import { type DatasetsTestApp, startDatasets } from './support/datasets-app';

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: Array<{ path: string; message: string }> } };
}

describe('datasets API: bad input', () => {
  let infra: TestInfra;
  let svc: DatasetsTestApp;

  beforeAll(async () => {
    infra = await testInfra('datasets-bad-input');
    svc = await startDatasets(infra, { DATASETS_CONSUMER_ENABLED: 'false' });
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
  });

  const valid = { name: 'valid-set', format: 'chat' };

  /** The paths the 400 names. */
  async function refusedPaths(method: 'POST' | 'GET', url: string, body?: unknown): Promise<string[]> {
    const res = await svc.request<ErrorBody>(method, url, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    return (res.body.error.details?.issues ?? []).map((i) => i.path);
  }

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown field', { ...valid, colour: 'blue' }, 'colour'],
    ['an unknown filter field', { ...valid, filter: { rating: 5 } }, 'filter.rating'],
    [
      'an unknown prompt filter field',
      { ...valid, filter: { prompt: { version: 3 } } },
      'filter.prompt.version',
    ],
    ['an unknown format', { ...valid, format: 'sft' }, 'format'],
    ['no format', { name: 'x' }, 'format'],
    ['no name', { format: 'chat' }, 'name'],
    ['a name outside the pattern', { ...valid, name: 'Bad Name' }, 'name'],
    ['a name with a slash', { ...valid, name: 'a/b' }, 'name'],
    [
      'from not before to',
      { ...valid, filter: { from: '2026-02-01T00:00:00Z', to: '2026-02-01T00:00:00Z' } },
      'filter.to',
    ],
    ['a date that is not RFC 3339', { ...valid, filter: { from: 'yesterday' } }, 'filter.from'],
    ['minRating over maxRating', { ...valid, filter: { minRating: 4, maxRating: 2 } }, 'filter.maxRating'],
    [
      'a score range with min over max',
      { ...valid, filter: { scores: { helpful: { min: 1, max: 0 } } } },
      'filter.scores.helpful.max',
    ],
    [
      'an unknown score range field',
      { ...valid, filter: { scores: { helpful: { above: 1 } } } },
      'filter.scores.helpful.above',
    ],
    ['unknown thumbs', { ...valid, filter: { thumbs: 'sideways' } }, 'filter.thumbs'],
    ['an unknown source', { ...valid, filter: { source: 'robot' } }, 'filter.source'],
    ['hasCorrection not a boolean', { ...valid, filter: { hasCorrection: 'yes' } }, 'filter.hasCorrection'],
    [
      'alias and hash together',
      { ...valid, filter: { prompt: { name: 'p', alias: 'prod', hash: 'a'.repeat(64) } } },
      'filter.prompt.hash',
    ],
    ['alias without name', { ...valid, filter: { prompt: { alias: 'prod' } } }, 'filter.prompt.alias'],
    ['a malformed prompt hash', { ...valid, filter: { prompt: { hash: 'abc' } } }, 'filter.prompt.hash'],
    ['splits over 1 in total', { ...valid, split: { validation: 0.6, test: 0.5 } }, 'split'],
    ['train as a split name', { ...valid, split: { train: 0.8 } }, 'split.train'],
    ['a split fraction of 0', { ...valid, split: { validation: 0 } }, 'split.validation'],
    ['a split fraction of 1', { ...valid, split: { validation: 1 } }, 'split.validation'],
    ['a limit of 0', { ...valid, limit: 0 }, 'limit'],
    ['a fractional limit', { ...valid, limit: 1.5 }, 'limit'],
    ['a limit over 10,000,000', { ...valid, limit: 10_000_001 }, 'limit'],
    ['dedupe not a boolean', { ...valid, dedupe: 1 }, 'dedupe'],
    ['preference options on a chat dataset', { ...valid, preference: { ratingMargin: 2 } }, 'preference'],
    [
      'eval options on a preference dataset',
      { ...valid, format: 'preference', eval: { minRating: 4 } },
      'eval',
    ],
    [
      'a rating margin of 0',
      { ...valid, format: 'preference', preference: { ratingMargin: 0 } },
      'preference.ratingMargin',
    ],
    ['an unknown eval option', { ...valid, format: 'eval', eval: { threshold: 4 } }, 'eval.threshold'],
  ];

  it.each(cases)('refuses %s with a 400 naming the field', async (_what, body, path) => {
    expect(await refusedPaths('POST', '/v1/datasets', body)).toContain(path);
  });

  it('refuses a split name outside the pattern, naming the split', async () => {
    const paths = await refusedPaths('POST', '/v1/datasets', { ...valid, split: { Validation: 0.1 } });
    expect(paths.some((p) => p.startsWith('split'))).toBe(true);
  });

  it('refuses a body that is not an object', async () => {
    expect(await refusedPaths('POST', '/v1/datasets', [valid])).toEqual(['']);
  });

  it('refuses options on a snapshot request and unknown list parameters', async () => {
    expect((await svc.request('POST', '/v1/datasets', valid)).status).toBe(201);
    expect(await refusedPaths('POST', '/v1/datasets/valid-set/snapshots', { force: true })).toEqual([
      'force',
    ]);
    expect(await refusedPaths('GET', '/v1/datasets?limit=0')).toEqual(['query.limit']);
    expect(await refusedPaths('GET', '/v1/datasets?sort=name')).toEqual(['query.sort']);
    expect(await refusedPaths('GET', '/v1/datasets/valid-set/snapshots?limit=101')).toEqual(['query.limit']);
    // Nothing was stored by the refused requests.
    const list = await svc.request<{ items: Array<{ name: string }> }>('GET', '/v1/datasets');
    expect(list.body.items.map((d) => d.name)).toEqual(['valid-set']);
  });

  it('a dataset name that cannot exist is a 404, like a missing one', async () => {
    const res = await svc.request<ErrorBody>('GET', '/v1/datasets/Not%20A%20Name');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('dataset_not_found');
  });
});
