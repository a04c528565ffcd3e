/**
 * The reference design's story, played against a running platform over its public HTTP APIs:
 * two `summarizer` prompt versions, a 50/50 experiment, simulated users whose generations and
 * feedback make B truly better in rating (and slightly slower). Used by `npm run demo` and by
 * the end-to-end test, which also keeps the ground truth this module returns. Every call sends an
 * API key; each step can use its own key with only the scopes it needs (SCENARIO_SCOPES).
 */
import type { Scope } from '@llmops/contracts';
import { mulberry32 } from '@llmops/stats';

export interface PlatformUrls {
  registry: string;
  assignment: string;
  feedback: string;
  analytics: string;
}

/** The API key (`llmk_...`) each step of the story sends. */
export interface ScenarioKeys {
  /** Registers the prompt versions. */
  prompts: string;
  /** Creates and starts the experiment (assignment resolves the arms' prompt refs with it). */
  experiments: string;
  /** Assigns the users and logs their generations and feedback. */
  traffic: string;
  /** Reads the results. */
  results: string;
  /** Curates a dataset from the traffic, snapshots it and downloads it. */
  datasets: string;
}

/** The least each step's key needs (a key with more, like npm start's admin key, works too). */
export const SCENARIO_SCOPES: Record<keyof ScenarioKeys, readonly Scope[]> = {
  prompts: ['prompts:write'],
  experiments: ['experiments:write', 'prompts:read'],
  traffic: ['assign', 'ingest'],
  results: ['results:read'],
  datasets: ['datasets:write', 'datasets:read'],
};

/** One key for every step. */
export function sameKey(key: string): ScenarioKeys {
  return { prompts: key, experiments: key, traffic: key, results: key, datasets: key };
}

export interface ScenarioOptions {
  keys: ScenarioKeys;
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

/** One generation as sent, with the feedback sent for it. */
export interface ExampleTruth {
  requestId: string;
  arm: string;
  input: string;
  output: string;
  rating: number;
  correction?: string;
}

export interface ScenarioResult {
  experiment: string;
  hashes: { A: string; B: string };
  truth: Record<string, ArmTruth>;
  /** Every generation in the order it was sent. */
  examples: ExampleTruth[];
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

export interface CallOptions {
  /** The API key sent as `Authorization: Bearer <key>`. */
  key: string;
  body?: unknown;
  /** Statuses that are an answer, not a failure (default 200, 201, 202). */
  ok?: number[];
  /** How long one attempt may take (default 30 s; a snapshot build runs as long as its dataset needs). */
  timeoutMs?: number;
}

export async function call<T>(method: string, url: string, o: CallOptions): Promise<T> {
  const { body, ok = [200, 201, 202], timeoutMs = 30_000 } = o;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${o.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    // 503 means "not accepted, retry" (broker briefly unavailable): honour Retry-After.
    if (res.status === 503 && attempt < 5) {
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    if (!ok.includes(res.status)) throw new HttpError(res.status, parsed, `${method} ${url}`);
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
  apiKey: string,
): Promise<{ A: string; B: string }> {
  const model = 'gpt-4o-mini';
  const register = (template: string, description: string) =>
    call<RegisteredVersion>('POST', `${urls.registry}/v1/prompts/${promptName}/versions`, {
      key: apiKey,
      body: {
        spec: { template, model, params: { temperature: 0.7, max_tokens: 256 } },
        metadata: { author: 'demo', description },
      },
    });
  const a = await register('Summarize: {text}', 'reference v1');
  const b = await register('Provide a concise summary of: {text}', 'reference v2');
  return { A: a.hash, B: b.hash };
}

export async function createAndStartExperiment(
  urls: PlatformUrls,
  experiment: string,
  promptName: string,
  hashes: { A: string; B: string },
  apiKey: string,
): Promise<void> {
  await call('POST', `${urls.assignment}/v1/experiments`, {
    key: apiKey,
    body: {
      key: experiment,
      description: 'Which summarizer prompt do users rate higher?',
      arms: [
        { name: 'A', weight: 0.5, prompt: { name: promptName, ref: hashes.A } },
        { name: 'B', weight: 0.5, prompt: { name: promptName, ref: hashes.B } },
      ],
    },
  });
  await call('POST', `${urls.assignment}/v1/experiments/${experiment}/start`, { key: apiKey, body: {} });
}

interface BatchAnswer {
  accepted?: string[];
  rejected?: Array<{ index: number; code: string; message: string }>;
  error?: { code: string; message: string };
}

/**
 * Posts an ingestion batch and makes sure every item was accepted. Items naming an experiment the
 * feedback service has not learned yet (404 `experiment_not_found`: a new experiment reaches it
 * within milliseconds, see its README) are sent again after a second; any other rejection fails.
 */
async function ingest(url: string, items: unknown[], key: string): Promise<void> {
  let pending = items;
  for (let attempt = 1; ; attempt++) {
    const answer = await call<BatchAnswer>('POST', url, { key, body: { items: pending }, ok: [202, 400] });
    if (answer.error) throw new HttpError(400, answer, `POST ${url}`);
    const rejected = answer.rejected ?? [];
    if (rejected.length === 0) return;
    if (attempt === 5 || rejected.some((r) => r.code !== 'experiment_not_found')) {
      throw new Error(
        `POST ${url} rejected ${rejected.length} items: ${JSON.stringify(rejected.slice(0, 3))}`,
      );
    }
    pending = rejected.map((r) => pending[r.index]);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Runs the whole story and returns the ground truth of what was sent. */
export async function runScenario(urls: PlatformUrls, o: ScenarioOptions): Promise<ScenarioResult> {
  const rand = mulberry32(o.seed);
  const hashes = await registerPrompts(urls, o.promptName, o.keys.prompts);
  await createAndStartExperiment(urls, o.experiment, o.promptName, hashes, o.keys.experiments);

  const truth: Record<string, ArmTruth> = { A: emptyTruth(), B: emptyTruth() };
  const examples: ExampleTruth[] = [];
  let notInExperiment = 0;
  const chunk = o.chunkSize ?? 250;
  for (let start = 0; start < o.users; start += chunk) {
    const ids = Array.from(
      { length: Math.min(chunk, o.users - start) },
      (_, i) => `user-${o.seed}-${start + i}`,
    );
    const assigned = await call<{ items: AssignResult[] }>('POST', `${urls.assignment}/v1/assign/batch`, {
      key: o.keys.traffic,
      body: { items: ids.map((userId) => ({ experiment: o.experiment, userId })) },
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
      const input = 'A long article about data flywheels...';
      const output = `Summary for ${userId}`;
      generations.push({
        requestId,
        experiment: o.experiment,
        arm: a.arm,
        userId,
        prompt: a.prompt,
        model: 'gpt-4o-mini',
        input,
        output,
        latencyMs,
        usage: { promptTokens, completionTokens },
        costUsd,
      });
      const base = a.arm === 'B' ? 3.9 : 3.6;
      const rating = Math.min(5, Math.max(1, Math.round(base + 1.1 * normal(rand))));
      const thumbs = rating >= 4 ? 'up' : 'down';
      const withComment = rand() < 0.1;
      const withCorrection = rating <= 2 && rand() < 0.5;
      const correction = withCorrection ? 'A better summary.' : undefined;
      feedback.push({
        requestId,
        userId,
        rating,
        thumbs,
        source: 'user',
        ...(withComment ? { comment: 'thanks' } : {}),
        ...(correction === undefined ? {} : { correction }),
      });
      examples.push({
        requestId,
        arm: a.arm,
        input,
        output,
        rating,
        ...(correction === undefined ? {} : { correction }),
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
    await ingest(`${urls.feedback}/v1/generations/batch`, generations, o.keys.traffic);
    await ingest(`${urls.feedback}/v1/feedback/batch`, feedback, o.keys.traffic);
    o.onProgress?.(Math.min(start + chunk, o.users), o.users);
  }
  return { experiment: o.experiment, hashes, truth, examples, notInExperiment };
}
