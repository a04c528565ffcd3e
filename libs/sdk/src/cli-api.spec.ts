/**
 * The CLI's non-idempotent writes (create an experiment or a dataset, start/pause/stop) are retried
 * only when the service certainly did not process them; idempotent calls keep the full retry policy.
 */
import { PlatformApi } from './cli-api';
import type { CreateExperimentBody } from './cli-files';
import { DEFAULT_URLS } from './options';
import { Transport } from './transport';

const experiment = { key: 'exp' } as unknown as CreateExperimentBody;
const created = () =>
  new Response(JSON.stringify({ key: 'exp', status: 'draft' }), {
    status: 201,
    headers: { 'content-type': 'application/json' },
  });
const error = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code, message: code } }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

/** A PlatformApi whose fetch answers each call with the next of `answers` (a Response or a thrown error). */
function api(answers: Array<(signal: AbortSignal) => Response | Promise<Response>>) {
  let calls = 0;
  const fetch = (async (input: Request) => {
    const answer = answers[Math.min(calls++, answers.length - 1)];
    return answer(input.signal);
  }) as typeof globalThis.fetch;
  const transport = new Transport({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, 200, { retried: 0 });
  return { api: new PlatformApi({ apiKey: 'k', urls: DEFAULT_URLS, fetch }, transport), calls: () => calls };
}

/** Fetch's failure when nothing listens: TypeError('fetch failed') caused by ECONNREFUSED. */
const refused = (): never => {
  throw new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
  });
};
const reset = (): never => {
  throw new TypeError('fetch failed', {
    cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
  });
};
/** No answer until the attempt's timeout aborts it (at once if it already has: a loaded host may be that late). */
const hang = (signal: AbortSignal): Promise<Response> =>
  new Promise<Response>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

describe('non-idempotent CLI writes', () => {
  it('are not retried after a timeout: a create that may have succeeded is not sent again (no 409)', async () => {
    const { api: a, calls } = api([hang, () => error(409, 'experiment_exists')]);
    await expect(a.createExperiment(experiment)).rejects.toMatchObject({ code: 'timeout' });
    expect(calls()).toBe(1);
  });

  it('are not retried after a reset connection or a 502/504', async () => {
    for (const first of [reset, () => error(502, 'bad_gateway'), () => error(504, 'gateway_timeout')]) {
      const { api: a, calls } = api([first, created]);
      await expect(a.changeExperiment('exp', 'start')).rejects.toMatchObject({
        name: 'LlmopsUnavailableError',
      });
      expect(calls()).toBe(1);
    }
  });

  it('are retried when certainly not processed: connection refused, 429, 503 with Retry-After', async () => {
    for (const first of [
      refused,
      () => error(429, 'rate_limited', { 'retry-after': '0' }),
      () => error(503, 'not_ready', { 'retry-after': '0' }),
    ]) {
      const { api: a, calls } = api([first, created]);
      await expect(a.createExperiment(experiment)).resolves.toMatchObject({ key: 'exp' });
      expect(calls()).toBe(2);
    }
  });

  it('a 503 without Retry-After is not retried', async () => {
    const { api: a, calls } = api([() => error(503, 'unavailable'), created]);
    await expect(a.changeExperiment('exp', 'stop')).rejects.toMatchObject({ status: 503 });
    expect(calls()).toBe(1);
  });

  it('idempotent calls keep retrying after a timeout', async () => {
    const { api: a, calls } = api([
      hang,
      () =>
        new Response(JSON.stringify({ experiment: 'exp', arms: [] }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        }),
    ]);
    await expect(a.results('exp')).resolves.toMatchObject({ experiment: 'exp' });
    expect(calls()).toBe(2);
  });
});
