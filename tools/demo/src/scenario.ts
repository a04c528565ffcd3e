/**
 * The reference design's story, played against a running platform over its public HTTP APIs:
 * two `summarizer` prompt versions, a 50/50 experiment, simulated users whose generations and
 * feedback make B truly better in rating (and slightly slower). Used by `npm run demo` and by
 * the end-to-end test, which also keeps the ground truth this module returns.
 */
import { mulberry32 } from '@llmops/stats';

export interface PlatformUrls {
  registry: string;
  assignment: string;
  feedback: string;
  analytics: string;
}

export interface ScenarioOptions {
  users: number;
  seed: number;
  experiment: string;
  promptName: string;
  /** Called after each chunk of users, for progress bars. */
  onProgress?: (done: number, total: number) => void;
  chunkSize?: number;
}

export interface ArmTruth {
  users: Set<string>;
  generations: number;
  ratings: number[];
  thumbsUp: number;
  thumbsDown: number;
  latencies: number[];
  costUsd: number;
  promptTokens: number;
  completionTokens: number;
  comments: number;
  corrections: number;
}

export interface ScenarioResult {
  experiment: string;
  hashes: { A: string; B: string };
  truth: Record<string, ArmTruth>;
  /** Users the assignment service put outside the experiment (0 with full allocation). */
  notInExperiment: number;
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} failed with HTTP ${status}: ${JSON.stringify(body).slice(0, 500)}`);
  }
}

export async function call<T>(
  method: string,
  url: string,
  body?: unknown,
  okStatuses = [200, 201, 202],
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    // 503 means "not accepted, retry" (broker briefly unavailable): honour Retry-After.
    if (res.status === 503 && attempt < 5) {
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    if (!okStatuses.includes(res.status)) throw new HttpError(res.status, parsed, `${method} ${url}`);
    return parsed as T;
  }
}

interface RegisteredVersion {
  hash: string;
  version: number;
}

interface AssignResult {
  experiment: string;
  arm: string;
  prompt: { name: string; hash: string };
  inExperiment: boolean;
}

function emptyTruth(): ArmTruth {
  return {
    users: new Set(),
    generations: 0,
    ratings: [],
    thumbsUp: 0,
    thumbsDown: 0,
    latencies: [],
    costUsd: 0,
    promptTokens: 0,
    completionTokens: 0,
    comments: 0,
    corrections: 0,
  };
}

export async function registerPrompts(
  urls: PlatformUrls,
  promptName: string,
): Promise<{ A: string; B: string }> {
  const model = 'gpt-4o-mini';
  const a = await call<RegisteredVersion>('POST', `${urls.registry}/v1/prompts/${promptName}/versions`, {
    spec: { template: 'Summarize: {text}', model, params: { temperature: 0.7, max_tokens: 256 } },
    metadata: { author: 'demo', description: 'reference v1' },
  });
  const b = await call<RegisteredVersion>('POST', `${urls.registry}/v1/prompts/${promptName}/versions`, {
    spec: {
      template: 'Provide a concise summary of: {text}',
      model,
      params: { temperature: 0.7, max_tokens: 256 },
    },
    metadata: { author: 'demo', description: 'reference v2' },
  });
  return { A: a.hash, B: b.hash };
}

export async function createAndStartExperiment(
  urls: PlatformUrls,
  key: string,
  promptName: string,
  hashes: { A: string; B: string },
): Promise<void> {
  await call('POST', `${urls.assignment}/v1/experiments`, {
    key,
    description: 'Which summarizer prompt do users rate higher?',
    arms: [
      { name: 'A', weight: 0.5, prompt: { name: promptName, ref: hashes.A } },
      { name: 'B', weight: 0.5, prompt: { name: promptName, ref: hashes.B } },
    ],
  });
  await call('POST', `${urls.assignment}/v1/experiments/${key}/start`, {});
}

/** Runs the whole story and returns the ground truth of what was sent. */
export async function runScenario(urls: PlatformUrls, o: ScenarioOptions): Promise<ScenarioResult> {
  const rand = mulberry32(o.seed);
  const hashes = await registerPrompts(urls, o.promptName);
  await createAndStartExperiment(urls, o.experiment, o.promptName, hashes);

  const truth: Record<string, ArmTruth> = { A: emptyTruth(), B: emptyTruth() };
  let notInExperiment = 0;
  const chunk = o.chunkSize ?? 250;
  for (let start = 0; start < o.users; start += chunk) {
    const ids = Array.from(
      { length: Math.min(chunk, o.users - start) },
      (_, i) => `user-${o.seed}-${start + i}`,
    );
    const assigned = await call<{ items: AssignResult[] }>('POST', `${urls.assignment}/v1/assign/batch`, {
      items: ids.map((userId) => ({ experiment: o.experiment, userId })),
    });
    const generations: unknown[] = [];
    const feedback: unknown[] = [];
    assigned.items.forEach((a, i) => {
      const userId = ids[i];
      if (!a.inExperiment) {
        notInExperiment++;
        return;
      }
      const t = truth[a.arm];
      t.users.add(userId);
      const requestId = `req-${userId}`;
      // B is truly better (+0.3 rating on average) and a little slower (+60 ms).
      const latencyMs = Math.round(Math.max(80, (a.arm === 'B' ? 860 : 800) + 180 * normal(rand)));
      const promptTokens = 400 + Math.floor(rand() * 200);
      const completionTokens = 80 + Math.floor(rand() * 60);
      const costUsd = Math.round((promptTokens * 0.15 + completionTokens * 0.6) * 1e-6 * 1e8) / 1e8;
      generations.push({
        requestId,
        experiment: o.experiment,
        arm: a.arm,
        userId,
        prompt: a.prompt,
        model: 'gpt-4o-mini',
        input: 'A long article about data flywheels...',
        output: `Summary for ${userId}`,
        latencyMs,
        usage: { promptTokens, completionTokens },
        costUsd,
      });
      const base = a.arm === 'B' ? 3.9 : 3.6;
      const rating = Math.min(5, Math.max(1, Math.round(base + 1.1 * normal(rand))));
      const thumbs = rating >= 4 ? 'up' : 'down';
      const withComment = rand() < 0.1;
      const withCorrection = rating <= 2 && rand() < 0.5;
      feedback.push({
        requestId,
        userId,
        rating,
        thumbs,
        source: 'user',
        ...(withComment ? { comment: 'thanks' } : {}),
        ...(withCorrection ? { correction: 'A better summary.' } : {}),
      });
      t.generations++;
      t.latencies.push(latencyMs);
      t.costUsd += costUsd;
      t.promptTokens += promptTokens;
      t.completionTokens += completionTokens;
      t.ratings.push(rating);
      if (thumbs === 'up') t.thumbsUp++;
      else t.thumbsDown++;
      if (withComment) t.comments++;
      if (withCorrection) t.corrections++;
    });
    await call('POST', `${urls.feedback}/v1/generations/batch`, { items: generations });
    await call('POST', `${urls.feedback}/v1/feedback/batch`, { items: feedback });
    o.onProgress?.(Math.min(start + chunk, o.users), o.users);
  }
  return { experiment: o.experiment, hashes, truth, notInExperiment };
}
