/**
 * Bounded work per request (real Kafka + MongoDB): renders stop at REGISTRY_MAX_RENDERED_BYTES,
 * diffs refuse oversized texts and give up on texts too different to diff, and while the largest
 * allowed render or diff runs, /health/live keeps answering within 100 ms (of event-loop time).
 */
import { type LivenessReport, measureLiveness, testInfra } from '@llmops/testing';
import { type RegistryTestApp, startRegistry } from './support/registry-app';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const MODEL = 'gpt-4o-mini';
const LIVE_MS = 100;
const infra = testInfra();
let r: RegistryTestApp;

const register = async (name: string, spec: unknown) => {
  const res = await r.request<{ version: number }>('POST', `/v1/prompts/${name}/versions`, { spec });
  expect(res.status).toBe(201);
  return res.body.version;
};
const live = async () => expect((await r.request('GET', '/health/live')).status).toBe(200);
/**
 * /health/live answered every probe within LIVE_MS of event-loop time. The wall time of a probe
 * also counts time this process waited for a CPU on a loaded machine, so the check uses the busy
 * time (see measureLiveness); the wall time is printed next to it.
 */
const expectLive = (report: LivenessReport<unknown>) => {
  console.log(
    `/health/live over ${report.probes} probes: worst ${report.worstMs.toFixed(1)} ms wall, ${report.blockedMs.toFixed(1)} ms busy`,
  );
  expect(report.blockedMs).toBeLessThan(LIVE_MS);
};
const lines = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `${tag} line ${i}: the quick brown fox`).join('\n');

beforeAll(async () => {
  r = await startRegistry(infra, { REGISTRY_CACHE_CONSUMER_ENABLED: 'false', LOG_LEVEL: 'fatal' });
});

afterAll(async () => {
  await r?.close();
});

describe('render size limit', () => {
  it('a 10 KB request whose 10,000 placeholders would render 100 MB gets 422 rendered_too_large', async () => {
    await register('fanout', { template: '{v}'.repeat(10_000), model: MODEL });
    const res = await r.request<ErrorBody>('POST', '/v1/prompts/fanout/render', {
      ref: 'latest',
      variables: { v: 'x'.repeat(10_000) },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('rendered_too_large');
    expect(res.body.error.details).toEqual({ maxBytes: r.config.REGISTRY_MAX_RENDERED_BYTES });
    expect(res.body.error.message).toMatch(/1048576 bytes/);
  });

  it('counts every rendered text of a chat spec together, in UTF-8 bytes', async () => {
    const max = r.config.REGISTRY_MAX_RENDERED_BYTES;
    // 100,000 euros are 300,000 bytes (3 each) but 100,000 UTF-16 units. Four of them are over the
    // 1 MiB limit only when counted in bytes; three fit.
    expect(max).toBe(1024 * 1024);
    const euros = '€'.repeat(100_000);
    await register('euros', {
      model: MODEL,
      system: '{e}{e}',
      messages: [{ role: 'user', content: '{e}{e}' }],
    });
    const res = await r.request<ErrorBody>('POST', '/v1/prompts/euros/render', {
      ref: 'latest',
      variables: { e: euros },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('rendered_too_large');
    await register('euro', { model: MODEL, system: '{e}', messages: [{ role: 'user', content: '{e}{e}' }] });
    const fits = await r.request<{ messages: Array<{ content: string }> }>(
      'POST',
      '/v1/prompts/euro/render',
      {
        ref: 'latest',
        variables: { e: euros },
      },
    );
    expect(fits.status).toBe(200);
    expect(fits.body.messages.map((m) => m.content.length)).toEqual([100_000, 200_000]);
  });

  it('while the largest allowed render runs, /health/live answers within 100 ms', async () => {
    const max = r.config.REGISTRY_MAX_RENDERED_BYTES;
    const placeholders = 50_000;
    await register('widest', { template: '{v}'.repeat(placeholders), model: MODEL });
    const value = 'y'.repeat(Math.floor(max / placeholders));
    const report = await measureLiveness(
      r.request<{ text: string }>('POST', '/v1/prompts/widest/render', {
        ref: 'latest',
        variables: { v: value },
      }),
      live,
    );
    expect(report.result.status).toBe(200);
    expect(report.result.body.text.length).toBe(value.length * placeholders);
    expect(report.result.body.text.length).toBeGreaterThan(max * 0.95);
    expectLive(report);
  });
});

describe('diff limits', () => {
  it('two 5,000-line templates that differ everywhere: 422 diff_too_different, and /health/live stays responsive', async () => {
    const maxLines = r.config.REGISTRY_DIFF_MAX_LINES;
    const from = await register('apart', { template: lines(maxLines, 'old'), model: MODEL });
    const to = await register('apart', { template: lines(maxLines, 'new'), model: MODEL });
    const report = await measureLiveness(
      r.request<ErrorBody>('GET', `/v1/prompts/apart/diff?from=${from}&to=${to}`),
      live,
    );
    expect(report.result.status).toBe(422);
    expect(report.result.body.error.code).toBe('diff_too_different');
    expect(report.result.body.error.details).toEqual({
      field: 'template',
      maxChangedLines: r.config.REGISTRY_DIFF_MAX_CHANGED_LINES,
    });
    expectLive(report);
  });

  it('a text over REGISTRY_DIFF_MAX_LINES gets 422 diff_too_large without being diffed', async () => {
    const maxLines = r.config.REGISTRY_DIFF_MAX_LINES;
    const from = await register('long', { template: 'short', model: MODEL, system: 'S' });
    const to = await register('long', { template: 'short', model: MODEL, system: lines(maxLines + 1, 's') });
    const res = await r.request<ErrorBody>('GET', `/v1/prompts/long/diff?from=${from}&to=${to}`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('diff_too_large');
    expect(res.body.error.details).toEqual({ field: 'system', lines: maxLines + 1, maxLines });
  });

  it('the largest allowed diff (max lines, almost max changed lines) answers 200 while /health/live stays responsive', async () => {
    const maxLines = r.config.REGISTRY_DIFF_MAX_LINES;
    const maxChanged = r.config.REGISTRY_DIFF_MAX_CHANGED_LINES;
    // Replace evenly spread lines: each replaced line is one removal and one addition.
    const replaced = Math.floor((maxChanged - 2) / 2);
    const step = Math.floor(maxLines / replaced);
    const base = lines(maxLines, 'same').split('\n');
    const edited = base.map((l, i) => (i % step === 0 && i / step < replaced ? `edited ${i}` : l));
    const from = await register('near', { template: base.join('\n'), model: MODEL });
    const to = await register('near', { template: edited.join('\n'), model: MODEL });
    const report = await measureLiveness(
      r.request<{ text: { template: { parts: Array<{ op: string; lines: string[] }>; unified: string } } }>(
        'GET',
        `/v1/prompts/near/diff?from=${from}&to=${to}`,
      ),
      live,
    );
    expect(report.result.status).toBe(200);
    const removed = report.result.body.text.template.parts
      .filter((p) => p.op === 'removed')
      .reduce((n, p) => n + p.lines.length, 0);
    expect(removed).toBe(replaced);
    expect(report.result.body.text.template.unified).toContain(`+edited ${step}`);
    expectLive(report);
  });
});

describe('query parameters', () => {
  it('every GET that takes query parameters refuses unknown ones with 400', async () => {
    await register('queried', { template: 'a', model: MODEL });
    await register('queried', { template: 'b', model: MODEL });
    const urls = [
      '/v1/prompts?limit=5&sort=name',
      '/v1/prompts/queried/versions?limit=5&offset=1',
      '/v1/prompts/queried/diff?from=1&to=2&context=10',
      '/v1/prompts/queried/aliases/latest/history?limit=5&page=2',
    ];
    for (const url of urls) {
      const res = await r.request<ErrorBody>('GET', url);
      expect([url, res.status, res.body.error.code]).toEqual([url, 400, 'validation_failed']);
      expect(res.body.error.details?.issues).toEqual([
        { path: expect.stringMatching(/(sort|offset|context|page)$/), message: 'unknown field' },
      ]);
    }
  });
});
