/**
 * Local assignment: the experiments of the key's project, long-polled from the assignment service's
 * `GET /v1/experiments/snapshots` (ETag / If-None-Match, `?wait=`), each compiled with the service's
 * own CompiledExperiment (@llmops/experiments), so `assign` answers what `POST /v1/assign` answers
 * with no request. Users in an experiment are exposed: the exposure is queued as a compact record
 * (the outcome, the user, the time) and serialized only when its batch is sent to
 * `POST /v1/exposures`, which checks it against the service's own assignment. Until the first
 * snapshot arrives, and for an experiment the snapshot does not know (yet), `assign` asks
 * `POST /v1/assign` (which records the exposure itself).
 */
import type { ExperimentSnapshot } from '@llmops/contracts';
import {
  type AssignResponse,
  type Assignment,
  type Attributes,
  CompiledExperiment,
} from '@llmops/experiments';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, ClientPathsWithMethod } from 'openapi-fetch';
import { LlmopsError, LlmopsUnavailableError } from './errors';
import type { paths as AssignmentPaths } from './generated/assignment';
import type { IngestionQueue, RefusedIndex } from './ingestion-queue';
import { backoffDelay, type RetryOptions } from './retry';
import type { Transport } from './transport';
import { checkAttributes, requireText, requireUserId } from './validate';

export type AssignResult = AssignResponse & { source: 'local' | 'remote' };

/**
 * The operation exposure batches are sent to, typed by the generated document: the path must be
 * one it has this method for, and the body and answer are that operation's.
 */
const EXPOSURES_METHOD = 'post';
const EXPOSURES_PATH = '/v1/exposures' satisfies ClientPathsWithMethod<
  Client<AssignmentPaths>,
  typeof EXPOSURES_METHOD
>;
type ExposuresOperation = AssignmentPaths[typeof EXPOSURES_PATH][typeof EXPOSURES_METHOD];
type ExposuresBody = ExposuresOperation['requestBody']['content']['application/json'];
type ExposuresAnswer = ExposuresOperation['responses'][202]['content']['application/json'];
/** A client-side exposure, as `POST /v1/exposures` takes it. */
export type ExposureItem = ExposuresBody['items'][number];

/** Seconds one snapshot request is held by the service when nothing changes. */
const WAIT_SECONDS = 25;
/**
 * Answers remembered per generation (for the exposure and the next assignment). Two generations:
 * when the current one is full it becomes the previous one and the older one is forgotten; an
 * answer found in the previous generation moves to the current one. A working set of up to this
 * many users is always remembered; at most twice this many are held.
 */
export const REMEMBERED_PER_GENERATION = 100_000;

/**
 * A user's last local answer, the experiment (snapshot version) it came from, and the answer of
 * the last exposure queued (forgotten if the platform does not take that exposure).
 */
interface Remembered {
  readonly experiment: LocalExperiment;
  readonly response: AssignResponse;
  readonly exposed: AssignResponse | undefined;
}

/**
 * One outcome of a compiled experiment, prepared once per snapshot and shared by every user given
 * it: what a user first answered with it is remembered as (so a fresh user costs no record of its
 * own), and the start of its exposure's JSON.
 */
export interface Outcome extends Remembered {
  /** `{"experiment":…,"arm":…,"phase":…,"userId":` */
  readonly json: string;
}

/** A compiled experiment with its outcomes prepared for the client. */
export class LocalExperiment {
  /** Answers depend on the attributes of each call: nothing is answered from memory. */
  readonly targeted: boolean;
  private readonly outcomes = new Map<Assignment, Outcome>();

  constructor(readonly compiled: CompiledExperiment) {
    const targeting = compiled.snapshot.targeting;
    this.targeted = targeting !== undefined && targeting.length > 0;
  }

  assign(userId: string, attributes: Attributes | undefined): Outcome {
    const assignment = this.compiled.assign(userId, attributes);
    return this.outcomes.get(assignment) ?? this.prepare(assignment);
  }

  private prepare(assignment: Assignment): Outcome {
    const r = assignment.response;
    const outcome: Outcome = Object.freeze({
      experiment: this,
      response: r,
      exposed: assignment.exposed === undefined ? undefined : r,
      json: `{"experiment":${JSON.stringify(r.experiment)},"arm":${JSON.stringify(r.arm)},"phase":${JSON.stringify(r.phase)},"userId":`,
    });
    this.outcomes.set(assignment, outcome);
    return outcome;
  }
}

/** A queued exposure; its JSON is written when its batch is sent (exposureSender). */
export class QueuedExposure {
  constructor(
    readonly outcome: Outcome,
    readonly userId: string,
    /** ISO timestamp of the assignment. */
    readonly assignedAt: string,
    /** A copy of the call's attributes, for an experiment that targets (the service checks with them). */
    readonly attributes: Attributes | undefined,
  ) {}

  get experiment(): string {
    return this.outcome.response.experiment;
  }
}

/** Keeps the compiled experiments of the key's project current. */
export class SnapshotPoller {
  private experiments = new Map<string, LocalExperiment>();
  private version?: string;
  private running?: Promise<void>;
  private readonly stopping = new AbortController();
  private firstLoad?: { promise: Promise<void>; resolve: () => void };

  constructor(
    private readonly http: Client<AssignmentPaths>,
    private readonly transport: Transport,
    private readonly retry: RetryOptions,
    private readonly timeoutMs: number,
  ) {}

  get loaded(): boolean {
    return this.version !== undefined;
  }

  get(key: string): LocalExperiment | undefined {
    return this.experiments.get(key);
  }

  /** Starts polling (once); resolves when the first snapshot is loaded or `timeoutMs` passed. */
  async ready(timeoutMs = 10_000): Promise<boolean> {
    this.start();
    if (this.loaded) return true;
    if (!this.firstLoad) {
      let resolve!: () => void;
      this.firstLoad = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    }
    const timer = sleep(timeoutMs, undefined, { ref: false }).catch(() => undefined);
    await Promise.race([this.firstLoad.promise, timer]);
    return this.loaded;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const signal = this.stopping.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.poll(signal);
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        // Unreachable or refused: the last snapshot stays in use; try again after a backoff, and
        // not sooner than a 429/503's Retry-After (e.g. too_many_waiters).
        failures++;
        const retryAfter = err instanceof LlmopsUnavailableError ? err.retryAfterMs : undefined;
        await sleep(backoffDelay(Math.min(failures, 10), this.retry, retryAfter), undefined, {
          signal,
        }).catch(() => undefined);
      }
    }
  }

  private async poll(signal: AbortSignal): Promise<void> {
    const held = this.version;
    const { data, response } = await this.transport.send(
      'get experiment snapshots',
      (s) =>
        this.http.GET('/v1/experiments/snapshots', {
          params:
            held === undefined
              ? {}
              : { query: { wait: WAIT_SECONDS }, header: { 'If-None-Match': `"${held}"` } },
          signal: s,
        }),
      {
        signal,
        accept: (status) => status === 304,
        timeoutMs: this.timeoutMs + WAIT_SECONDS * 1000,
        maxAttempts: 1,
      },
    );
    if (response.status === 304 || data === undefined) return;
    const compiled = new Map<string, LocalExperiment>();
    for (const snapshot of data.experiments) {
      try {
        compiled.set(
          snapshot.key,
          new LocalExperiment(new CompiledExperiment(data.project, snapshot as ExperimentSnapshot)),
        );
      } catch {
        // An experiment this SDK cannot bucket (e.g. a newer hashVersion) is assigned remotely.
      }
    }
    this.experiments = compiled;
    this.version = data.version;
    this.firstLoad?.resolve();
  }
}

/**
 * The caller's copy of a compiled answer. Written out field by field: V8 builds this literal
 * much faster than it spreads the frozen response.
 */
function localResult(r: AssignResponse): AssignResult {
  return {
    experiment: r.experiment,
    arm: r.arm,
    prompt: r.prompt,
    inExperiment: r.inExperiment,
    reason: r.reason,
    phase: r.phase,
    source: 'local',
  };
}

/** `client.experiments` */
export interface ExperimentsApi {
  assign(key: string, userId: string, attributes?: Attributes): Promise<AssignResult>;
  ready(timeoutMs?: number): Promise<boolean>;
}

/** Per experiment key, each user's remembered answer. */
type Generation = Map<string, Map<string, Remembered>>;

/** An ISO timestamp of now; the string is made once per millisecond. */
let isoMs = 0;
let isoText = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

export class ExperimentsClient implements ExperimentsApi {
  private current: Generation = new Map();
  private previous: Generation = new Map();
  private currentSize = 0;

  constructor(
    private readonly poller: SnapshotPoller,
    private readonly http: Client<AssignmentPaths>,
    private readonly transport: Transport,
    private readonly exposures: IngestionQueue<QueuedExposure>,
    private readonly perGeneration = REMEMBERED_PER_GENERATION,
  ) {}

  /**
   * The arm of `userId` in experiment `key`: locally from the snapshot when there is one
   * (`source: 'local'`), else from `POST /v1/assign` (`source: 'remote'`).
   */
  async assign(key: string, userId: string, attributes?: Attributes): Promise<AssignResult> {
    requireText('key', key, 128);
    requireUserId('userId', userId);
    checkAttributes(attributes);
    this.poller.start();
    const experiment = this.poller.get(key);
    if (!experiment) return this.remote(key, userId, attributes);
    const last = this.current.get(key)?.get(userId) ?? this.promote(key, userId);
    // The answer is a function of the compiled experiment and the user (and of the attributes
    // when the experiment targets): a returning user of an unchanged snapshot is answered from
    // memory, and was exposed when that answer was first given.
    if (last !== undefined && last.experiment === experiment && !experiment.targeted)
      return localResult(last.response);
    const outcome = experiment.assign(userId, attributes);
    const { response, exposed } = outcome;
    const before = last?.exposed;
    // A user first answered, or exposed now, is remembered as the shared outcome; a user outside
    // the experiment now keeps the answer it was last exposed to.
    const remembered: Remembered =
      exposed !== undefined || before === undefined ? outcome : { experiment, response, exposed: before };
    if (last !== undefined) this.current.get(key)?.set(userId, remembered);
    else this.remember(key, userId, remembered);
    if (exposed !== undefined && !(before?.phase === response.phase && before.arm === response.arm)) {
      // The service checks an exposure against its own assignment, which needs the attributes
      // when the experiment targets.
      const item = new QueuedExposure(
        outcome,
        userId,
        isoNow(),
        experiment.targeted && attributes ? { ...attributes } : undefined,
      );
      if (!this.exposures.offer(item)) await this.exposures.push(item);
    }
    return localResult(response);
  }

  /**
   * The platform will not take this exposure (dropped, refused, or refused with its batch): the
   * user's answer is forgotten, so the next assign of that user queues the exposure again.
   */
  forget(item: QueuedExposure): void {
    const { experiment, arm, phase } = item.outcome.response;
    for (const generation of [this.current, this.previous]) {
      const users = generation.get(experiment);
      const r = users?.get(item.userId);
      if (r?.exposed?.arm === arm && r.exposed.phase === phase) {
        users?.delete(item.userId);
        if (generation === this.current) this.currentSize--;
      }
    }
  }

  /** Moves a user's answer from the previous generation to the current one. */
  private promote(key: string, userId: string): Remembered | undefined {
    const users = this.previous.get(key);
    const r = users?.get(userId);
    if (r === undefined) return undefined;
    users?.delete(userId);
    this.remember(key, userId, r);
    return r;
  }

  private remember(key: string, userId: string, r: Remembered): void {
    if (this.currentSize >= this.perGeneration) {
      this.previous = this.current;
      this.current = new Map();
      this.currentSize = 0;
    }
    let users = this.current.get(key);
    if (users === undefined) this.current.set(key, (users = new Map()));
    users.set(userId, r);
    this.currentSize++;
  }

  /** Waits (up to `timeoutMs`) for the first snapshot; false if none arrived. */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.poller.ready(timeoutMs);
  }

  private async remote(key: string, userId: string, attributes?: Attributes): Promise<AssignResult> {
    const { data } = await this.transport.send(`assign ${key}`, (signal) =>
      this.http.POST('/v1/assign', {
        body: { experiment: key, userId, ...(attributes ? { attributes: { ...attributes } } : {}) },
        signal,
      }),
    );
    if (data === undefined) throw new LlmopsError(`assign ${key}: empty answer`, 'invalid_response');
    return { ...(data as AssignResponse), source: 'remote' };
  }
}

/**
 * The JSON of `POST /v1/exposures` for a batch (an ExposuresBody), written from the queued
 * records: each item's experiment, arm and phase come as one string prepared per outcome, so no
 * item object is built and serialized field by field.
 */
export function exposuresJson(items: readonly QueuedExposure[]): string {
  let json = '{"items":[';
  for (let i = 0; i < items.length; i++) {
    const e = items[i];
    if (i > 0) json += ',';
    json += `${e.outcome.json}${JSON.stringify(e.userId)},"assignedAt":"${e.assignedAt}"`;
    if (e.attributes !== undefined) json += `,"attributes":${JSON.stringify(e.attributes)}`;
    json += '}';
  }
  return `${json}]}`;
}

/** An error answer's body: its JSON, or its text when it is not JSON. */
function errorBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The answer to a batch of `n` exposures that were all accepted, as the service writes it. */
let allAccepted = { n: 0, text: '{"items":[]}' };
function allAcceptedText(n: number): string {
  if (allAccepted.n !== n)
    allAccepted = { n, text: `{"items":[${new Array<string>(n).fill('{"status":"accepted"}').join(',')}]}` };
  return allAccepted.text;
}

/** Where a client's requests go and with what: the options its openapi-fetch clients are created with. */
export interface HttpOptions {
  baseUrl: string;
  headers: Readonly<Record<string, string>>;
  fetch: typeof fetch;
}

/**
 * Sends one batch of exposures; the service answers per item. The usual answer, every item
 * accepted, is recognised by its exact text; any other answer is parsed item by item.
 *
 * The request goes to the client's `fetch` as `fetch(url, init)`, not through openapi-fetch: the
 * body is already an ExposuresBody's JSON (exposuresJson), and openapi-fetch would wrap it in a
 * `Request`, which `fetch` then pipes through a stream copy of the body, CPU paid per batch. Every
 * other request of the client reaches `fetch` as a `Request`; both are forms `fetch` takes.
 * experiments.spec.ts sends the same batch through openapi-fetch's `POST` with the client's options
 * and checks that method, URL, every header and the body's bytes are equal, and that an error
 * answer becomes the same error.
 */
export function exposureSender(
  http: HttpOptions,
  transport: Transport,
): (items: QueuedExposure[]) => Promise<RefusedIndex[]> {
  const url = `${http.baseUrl.replace(/\/$/, '')}${EXPOSURES_PATH}`;
  const init = {
    method: EXPOSURES_METHOD.toUpperCase(),
    headers: { 'Content-Type': 'application/json', ...http.headers },
  };
  const fetchImpl = http.fetch;
  return async (items) => {
    const body = exposuresJson(items);
    const { data: text } = await transport.send<string>('send exposures', async (signal) => {
      const response = await fetchImpl(url, { ...init, body, signal });
      const answer = await response.text();
      return response.ok ? { data: answer, response } : { error: errorBody(answer), response };
    });
    if (text === allAcceptedText(items.length)) return [];
    const answer: ExposuresAnswer | undefined = text ? (JSON.parse(text) as ExposuresAnswer) : undefined;
    const refused: RefusedIndex[] = [];
    const results = answer?.items ?? [];
    for (let index = 0; index < results.length; index++) {
      const r = results[index];
      if (r.status !== 'accepted')
        refused.push({
          index,
          code: r.error?.code ?? 'rejected',
          message: r.error?.message ?? 'exposure rejected',
        });
    }
    return refused;
  };
}
