import { EVENT_SOURCES, EVENT_TYPES, parseEvent, trustedEvent } from '@llmops/contracts';
import { mulberry32 } from '@llmops/stats';
import { ExposureTemplate, type ExposureInput } from './exposure-event';

describe('exposure message', () => {
  it('is a valid io.llmops.exposure.v1 event keyed by experiment:userId', () => {
    const template = new ExposureTemplate({
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

  // Strings with everything JSON escapes or leaves alone: quotes, backslashes, control characters,
  // U+2028, non-BMP characters, colons.
  const ALPHABET = [
    'a',
    'Z',
    '0',
    ':',
    '"',
    '\\',
    '\n',
    '\u0000',
    '\u001f',
    '\u2028',
    'é',
    '日',
    '\u{1F600}',
    ' ',
    '/',
    '<',
  ];
  function randomString(next: () => number, min: number, max: number): string {
    const length = min + Math.floor(next() * (max - min + 1));
    let out = '';
    for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(next() * ALPHABET.length)];
    return out;
  }

  it('writes the same text as JSON.stringify of the event built with trustedEvent, for random inputs', () => {
    // Seeded, so a failure reproduces.
    const next = mulberry32(0x2545f491);
    for (let i = 0; i < 500; i++) {
      const fixed: Omit<ExposureInput, 'userId'> = {
        experiment: randomString(next, 1, 20),
        phase: Math.floor(next() * 1000),
        hashVersion: 1 + Math.floor(next() * 3),
        arm: {
          name: randomString(next, 1, 10),
          prompt: { name: randomString(next, 1, 30), hash: 'ab'.repeat(32) },
        },
        reason: next() < 0.5 ? 'hash' : 'forced',
      };
      const template = new ExposureTemplate(fixed);
      for (let k = 0; k < 3; k++) {
        const userId = randomString(next, 1, 40);
        const ms = Math.floor(next() * 4_102_444_800_000);
        const headers = { 'x-correlation-id': `c${i}`, traceparent: `t${k}` };
        const message = template.message(userId, headers, ms);
        const written = message.value as string;
        const id = (JSON.parse(written) as { id: string }).id;
        const time = new Date(ms).toISOString();
        // The contract's field order, as the object form would be built on a slow path.
        const data = {
          experiment: fixed.experiment,
          phase: fixed.phase,
          arm: fixed.arm.name,
          userId,
          prompt: { name: fixed.arm.prompt.name, hash: fixed.arm.prompt.hash },
          hashVersion: fixed.hashVersion,
          reason: fixed.reason,
          assignedAt: time,
        };
        const reference = trustedEvent(EVENT_TYPES.exposure, data, {
          source: EVENT_SOURCES.assignment,
          id,
          time,
        });
        expect(written).toBe(JSON.stringify(reference));
        // The id is a new UUIDv7 of the exposure's millisecond.
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(ms);
        expect(message.key).toBe(`${fixed.experiment}:${userId}`);
        expect(message.headers).toEqual({ 'content-type': 'application/cloudevents+json', ...headers });
      }
    }
  });
});
