import {
  createEvent,
  DEFAULT_PROJECT,
  EVENT_SOURCES,
  EVENT_TYPES,
  parseEvent,
  serializeEvent,
} from '@llmops/contracts';
import { uuidv7Time } from '@llmops/platform';
import { mulberry32 } from '@llmops/stats';
import { assignRequestSchema } from './dto/assign.request';
import { ExposureTemplate, type ExposureInput } from './exposure-event';

describe('exposure message', () => {
  it('is a valid io.llmops.exposure.v1 event of its project, keyed by experiment:userId', () => {
    const template = new ExposureTemplate({
      project: 'team-b',
      experiment: 'exp',
      phase: 2,
      hashVersion: 1,
      arm: { name: 'B', prompt: { name: 'summarizer', hash: 'f'.repeat(64) } },
      reason: 'forced',
    });
    const message = template.message(
      'tenant:7:ünï',
      { 'x-correlation-id': 'c1' },
      Date.parse('2025-03-01T10:00:00.000Z'),
    );
    expect(message.key).toBe('exp:tenant:7:ünï');
    expect(message.headers).toMatchObject({
      'content-type': 'application/cloudevents+json',
      'x-correlation-id': 'c1',
    });
    // Strict parse: unknown or missing fields would fail.
    const event = parseEvent(message.value as string);
    expect(event.type).toBe(EVENT_TYPES.exposure);
    expect(event.project).toBe('team-b');
    expect(event.data).toEqual({
      experiment: 'exp',
      phase: 2,
      arm: 'B',
      userId: 'tenant:7:ünï',
      prompt: { name: 'summarizer', hash: 'f'.repeat(64) },
      hashVersion: 1,
      reason: 'forced',
      assignedAt: '2025-03-01T10:00:00.000Z',
    });
  });

  // User ids with everything JSON escapes or leaves alone: quotes, backslashes, U+2028, non-BMP
  // characters, colons. Some get a control character, which the request schema refuses first.
  const USER_ID_CHARS = ['a', 'Z', '0', ':', '"', '\\', '\u2028', 'é', '日', '\u{1F600}', ' ', '/', '<'];
  const KEY_CHARS = [...'abcxyz0123456789_.-'];
  const ARM_CHARS = [...KEY_CHARS, 'A', 'Z', ':'];
  const PROJECT_CHARS = [...'abcxyz0123456789-'];
  function randomString(next: () => number, chars: readonly string[], min: number, max: number): string {
    const length = min + Math.floor(next() * (max - min + 1));
    let out = '';
    for (let i = 0; i < length; i++) out += chars[Math.floor(next() * chars.length)];
    return out;
  }

  it('writes the text of the schema path (createEvent + serializeEvent) for random valid inputs', () => {
    // Seeded, so a failure reproduces.
    const next = mulberry32(0x2545f491);
    let compared = 0;
    for (let i = 0; i < 500; i++) {
      const fixed: Omit<ExposureInput, 'userId'> = {
        // Half in `default`, half in a random other project.
        project: next() < 0.5 ? DEFAULT_PROJECT : `p${randomString(next, PROJECT_CHARS, 1, 62)}`,
        experiment: `e${randomString(next, KEY_CHARS, 0, 127)}`,
        phase: 1 + Math.floor(next() * 1000),
        hashVersion: 1 + Math.floor(next() * 3),
        arm: {
          name: `A${randomString(next, ARM_CHARS, 0, 127)}`,
          prompt: {
            name: `p${randomString(next, KEY_CHARS, 0, 127)}`,
            hash: randomString(next, [...'0123456789abcdef'], 64, 64),
          },
        },
        reason: next() < 0.5 ? 'hash' : 'forced',
      };
      const template = new ExposureTemplate(fixed);
      for (let k = 0; k < 3; k++) {
        const userId = randomString(next, USER_ID_CHARS, 1, 40) + (next() < 0.1 ? '\u0000' : '');
        // The template only ever sees user ids the request schema accepted.
        if (!assignRequestSchema.shape.userId.safeParse(userId).success) continue;
        const ms = Math.floor(next() * 4_102_444_800_000);
        const headers = { 'x-correlation-id': `c${i}`, traceparent: `t${k}` };
        const message = template.message(userId, headers, ms);
        const written = message.value as string;
        const id = (JSON.parse(written) as { id: string }).id;
        const time = new Date(ms).toISOString();
        // The schema path: the contract validates every field (a stricter contract fails here).
        const reference = createEvent(
          EVENT_TYPES.exposure,
          {
            experiment: fixed.experiment,
            phase: fixed.phase,
            arm: fixed.arm.name,
            userId,
            prompt: { name: fixed.arm.prompt.name, hash: fixed.arm.prompt.hash },
            hashVersion: fixed.hashVersion,
            reason: fixed.reason,
            assignedAt: time,
          },
          { source: EVENT_SOURCES.assignment, id, time, project: fixed.project },
        );
        expect(written).toBe(serializeEvent(reference));
        compared++;
        // The id is a new UUIDv7 of the exposure's millisecond.
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(uuidv7Time(id)).toBe(ms);
        expect(message.key).toBe(`${fixed.experiment}:${userId}`);
        expect(message.headers).toEqual({ 'content-type': 'application/cloudevents+json', ...headers });
      }
    }
    expect(compared).toBeGreaterThan(1_000);
  });
});
