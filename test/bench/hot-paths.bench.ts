/**
 * The kept hand-written hot paths against the schema paths they shortcut, in one run: a fast path
 * stays only while it costs at most 0.9x its schema path (a 10% win). Each one is also checked
 * against its schema path by a spec on random inputs (named below), so it cannot diverge.
 *
 *   BENCH_ONLY=hot-paths npm run bench        # HOT_PATH_ITEMS (default 20000), HOT_PATH_ROUNDS (5)
 *
 * - feedback request parse: submitFeedbackRequestParser vs the zod schema (submit-feedback.request.spec.ts)
 * - feedback content hash: feedbackContentHash vs canonicalize + SHA-256 (feedback-event.spec.ts)
 * - feedback event: draftFeedbackEvent vs createEvent, serialized (feedback-event.spec.ts)
 * - generation event: buildGenerationEvent vs createEvent, serialized (generation-event.spec.ts)
 * - exposure message: ExposureTemplate.message vs createEvent, serialized (exposure-event.spec.ts)
 */
/* eslint-disable @nx/enforce-module-boundaries -- the benchmark times the services' own functions in-process */
import { createEvent, EVENT_SOURCES, EVENT_TYPES, serializeEvent } from '@llmops/contracts';
import { canonicalize, sha256Hex } from '@llmops/hashing';
import { eventTime, uuidv7 } from '@llmops/platform';
import { ExposureTemplate } from '../../services/assignment/src/assignment/exposure-event';
import {
  buildSubmitFeedbackRequestSchema,
  submitFeedbackRequestParser,
  type SubmitFeedbackRequest,
} from '../../services/feedback/src/feedback/dto/submit-feedback.request';
import { draftFeedbackEvent, feedbackContentHash } from '../../services/feedback/src/feedback/feedback-event';
import {
  logGenerationRequestSchema,
  type LogGenerationRequest,
} from '../../services/feedback/src/generations/dto/log-generation.request';
import { buildGenerationEvent } from '../../services/feedback/src/generations/generation-event';
import { singleFeedbackItem } from './support/feedback-claims';
import { median, runBench, setting } from './support/harness';
import { reportResult } from './support/result';

const ITEMS = setting('HOT_PATH_ITEMS', 20_000);
const ROUNDS = setting('HOT_PATH_ROUNDS', 5);
const GOAL = { op: '<=', value: 0.9 } as const;

const scale = { min: 1, max: 5 };
const schema = buildSubmitFeedbackRequestSchema(scale);
const parse = submitFeedbackRequestParser(scale);
const at = new Date().toISOString();
const noRedaction = (s: string): string => s;
const feedbackId = uuidv7();

// Decoded JSON, as the service gets it.
const bodies: unknown[] = Array.from({ length: ITEMS }, (_, n) =>
  JSON.parse(JSON.stringify(singleFeedbackItem(n))),
);
const requests: SubmitFeedbackRequest[] = bodies.map((b) => schema.parse(b));
const generations: LogGenerationRequest[] = Array.from({ length: ITEMS }, (_, i) =>
  logGenerationRequestSchema.parse({
    requestId: `r-${i}`,
    model: 'gpt-4o-mini',
    output: 'A two-sentence summary of the input.',
    latencyMs: 800 + (i % 100),
    experiment: 'e',
    arm: 'A',
    usage: { promptTokens: 120, completionTokens: 40 },
    costUsd: 0.0023,
  }),
);
const exposure = {
  project: 'bench-project',
  experiment: 'bench-exp',
  phase: 1,
  hashVersion: 1,
  arm: { name: 'B', prompt: { name: 'summarizer', hash: 'a'.repeat(64) } },
  reason: 'hash' as const,
};
const template = new ExposureTemplate(exposure as ConstructorParameters<typeof ExposureTemplate>[0]);
const headers = { 'x-correlation-id': 'c' };

let sink = 0;

/** One item through the schema path, and through the fast path; both return something to keep. */
interface Pair {
  name: string;
  schema: (i: number) => unknown;
  fast: (i: number) => unknown;
}

const pairs: Pair[] = [
  {
    name: 'feedback request parse',
    schema: (i) => schema.safeParse(bodies[i]),
    fast: (i) => parse(bodies[i]),
  },
  {
    name: 'feedback content hash',
    schema: (i) => sha256Hex(canonicalize({ ...requests[i], feedbackId: undefined, ratingScale: scale })),
    fast: (i) => feedbackContentHash(requests[i]!, scale),
  },
  {
    name: 'feedback event JSON',
    schema: (i) => {
      const r = requests[i]!;
      const data = {
        feedbackId,
        requestId: r.requestId,
        experiment: r.experiment,
        arm: r.arm,
        rating: r.rating,
        ratingScale: scale,
        thumbs: r.thumbs,
        source: r.source,
        latencyMs: r.latencyMs,
        timestamp: at,
        receivedAt: at,
        revision: 1,
        edit: null,
      };
      const id = `fb:${feedbackId}:1`;
      return serializeEvent(
        createEvent(EVENT_TYPES.feedbackSubmitted, data, {
          source: EVENT_SOURCES.feedback,
          id,
          time: at,
          project: 'default',
        }),
      );
    },
    fast: (i) =>
      serializeEvent(draftFeedbackEvent(requests[i]!, feedbackId, scale, at, noRedaction, 'default')),
  },
  {
    name: 'generation event JSON',
    schema: (i) => {
      const data = { ...generations[i]!, timestamp: at, receivedAt: at };
      const id = `gen:${data.requestId}`;
      return serializeEvent(
        createEvent(EVENT_TYPES.generationLogged, data, {
          source: EVENT_SOURCES.feedback,
          id,
          time: at,
          project: 'default',
        }),
      );
    },
    fast: (i) => buildGenerationEvent(generations[i]!, at, noRedaction, 'default').value,
  },
  {
    name: 'exposure message',
    schema: (i) => {
      const ms = Date.now();
      const time = eventTime(ms);
      const data = {
        experiment: exposure.experiment,
        phase: exposure.phase,
        arm: exposure.arm.name,
        userId: `user-${i}`,
        prompt: exposure.arm.prompt,
        hashVersion: exposure.hashVersion,
        reason: exposure.reason,
        assignedAt: time,
      };
      return serializeEvent(
        createEvent(EVENT_TYPES.exposure, data, {
          source: EVENT_SOURCES.assignment,
          id: uuidv7(ms),
          time,
          project: exposure.project,
        }),
      );
    },
    fast: (i) => template.message(`user-${i}`, headers, Date.now()).value,
  },
];

/** Nanoseconds per item of one pass over every item. */
function pass(path: (i: number) => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITEMS; i++) sink += path(i) === undefined ? 0 : 1;
  return Number(process.hrtime.bigint() - start) / ITEMS;
}

function main(): void {
  for (const pair of pairs) {
    pass(pair.schema); // warm-up
    pass(pair.fast);
    const schemaNs: number[] = [];
    const fastNs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      schemaNs.push(pass(pair.schema));
      fastNs.push(pass(pair.fast));
    }
    const s = median(schemaNs);
    const f = median(fastNs);
    console.log(`${pair.name}: schema path ${s.toFixed(0)} ns, fast path ${f.toFixed(0)} ns per item`);
    reportResult({ measure: `${pair.name}, fast/schema time`, value: f / s, goal: GOAL });
  }
  if (sink < 0) console.log(sink);
}

runBench(main);
