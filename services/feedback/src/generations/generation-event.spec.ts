import { createEvent, EVENT_SOURCES, EVENT_TYPES, parseEvent, serializeEvent } from '@llmops/contracts';
import { createRedactor } from '../ingestion/redaction';
import { type LogGenerationRequest, logGenerationRequestSchema } from './dto/log-generation.request';
import { buildGenerationEvent, redactGeneration } from './generation-event';

const AT = '2025-03-01T00:00:00.000Z';
const HASH = 'ab'.repeat(32);

/** Deterministic pseudo-random requests covering every optional field and awkward values. */
function variedRequests(count: number): LogGenerationRequest[] {
  let x = 777;
  const next = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  const texts = ['ok', 'mail jane@example.com', 'call +49 170 1234567', 'ünïcødé ✓ 😀', 'a:b"c\\d\n', ''];
  const out: LogGenerationRequest[] = [];
  for (let i = 0; i < count; i++) {
    const body: Record<string, unknown> = {
      requestId: `req-${i}:${texts[next(5)].trimEnd()}`, // ids hold no control characters (the newline)
      model: ['gpt-4o', 'claude-x', 'local/llama'][next(3)],
      output: texts[next(6)].repeat(1 + next(20)),
      latencyMs: next(5000) + next(10) / 10,
    };
    if (next(2)) body.experiment = `exp-${next(3)}.v2`;
    if (next(2)) body.arm = ['A', 'B', 'control'][next(3)];
    if (next(2)) body.userId = `user ${texts[next(5)].trimEnd()}`;
    if (next(2)) body.prompt = { name: 'summarizer', hash: HASH };
    if (next(3) === 0) body.input = texts[next(6)];
    else if (next(2))
      body.input = [
        { role: 'system', content: texts[next(6)] },
        { role: 'user', content: texts[next(6)] },
      ];
    if (next(2)) body.usage = { promptTokens: next(4000), completionTokens: next(1000) };
    if (next(2)) body.costUsd = next(1000) / 1e5;
    if (next(3) === 0) body.metadata = { tenant: 't1', nested: { ok: true, n: [1, 'two', null] } };
    if (next(3) === 0) body.timestamp = '2025-03-01T10:00:01.250+01:00';
    out.push(logGenerationRequestSchema.parse(body));
  }
  return out;
}

describe('generation event (hand-built envelope)', () => {
  it.each([false, true])(
    'equals what createEvent builds and validates, for 500 varied requests (redaction %s)',
    (redaction) => {
      const redact = createRedactor(redaction);
      for (const req of variedRequests(500)) {
        const keyed = buildGenerationEvent(req, AT, redact);
        const reference = createEvent(
          EVENT_TYPES.generationLogged,
          { ...redactGeneration(req, redact), timestamp: req.timestamp ?? AT, receivedAt: AT },
          { source: EVENT_SOURCES.feedback, id: `gen:${req.requestId}`, time: req.timestamp ?? AT },
        );
        expect(keyed.event).toEqual(reference);
        expect(keyed.value).toBe(serializeEvent(reference)); // byte for byte, key order included
        expect(parseEvent(keyed.value)).toEqual(reference);
        expect(keyed.key).toBe(req.requestId);
      }
    },
  );
});
