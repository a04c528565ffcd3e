import { v7 as uuidv7 } from 'uuid';
import { ServerFeedbackIds } from './server-feedback-ids';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ServerFeedbackIds', () => {
  it('issues RFC 9562 version-7 ids that carry the time and recognises them', () => {
    const ids = new ServerFeedbackIds('key-1', () => 0x0190_0000_0001);
    const id = ids.next();
    expect(id).toMatch(UUID_V7);
    expect(id.startsWith('01900000-0001-7')).toBe(true);
    expect(ids.isServerIssued(id)).toBe(true);
    // Another generator (another replica) with the same key recognises it too.
    expect(new ServerFeedbackIds('key-1').isServerIssued(id)).toBe(true);
  });

  it('does not recognise ids of another key, other UUIDv7s, altered ids or other strings', () => {
    const ids = new ServerFeedbackIds('key-1');
    const id = ids.next();
    expect(new ServerFeedbackIds('key-2').isServerIssued(id)).toBe(false);
    expect(ids.isServerIssued(id.toUpperCase())).toBe(false);
    expect(ids.isServerIssued(`${id.slice(0, 35)}${id.endsWith('0') ? '1' : '0'}`)).toBe(false);
    expect(ids.isServerIssued(`${id.slice(0, 2)}${id[2] === '0' ? '1' : '0'}${id.slice(3)}`)).toBe(false);
    expect(ids.isServerIssued('fb-0001')).toBe(false);
    expect(ids.isServerIssued('')).toBe(false);
    // Random UUIDv7s from another generator: a 32-bit tag lets about 1 in 4 billion through.
    let recognised = 0;
    for (let i = 0; i < 20_000; i++) if (ids.isServerIssued(uuidv7())) recognised++;
    expect(recognised).toBe(0);
  });

  it('never repeats an id, also when more than 4,096 are issued in one millisecond', () => {
    const frozen = new ServerFeedbackIds('key-1', () => 1_700_000_000_000);
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(frozen.next());
    expect(seen.size).toBe(20_000);
    // Ordered by time: the time field moved on instead of reusing a counter value.
    const times = [...seen].map((id) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
    expect(times[0]).toBe(1_700_000_000_000);
    expect(times.at(-1)).toBeGreaterThanOrEqual(1_700_000_000_000 + 4);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
  });

  it('keeps its ids ordered when the clock goes back', () => {
    let t = 2_000;
    const ids = new ServerFeedbackIds('key-1', () => t);
    const a = ids.next();
    t = 1_000;
    const b = ids.next();
    expect(b.slice(0, 13)).toBe(a.slice(0, 13));
    expect(ids.isServerIssued(b)).toBe(true);
    expect(b).not.toBe(a);
  });

  it('gives two generators different node ids (30 random bits each)', () => {
    const nodeOf = (id: string): string => id.slice(19, 28);
    const nodes = new Set(Array.from({ length: 50 }, () => nodeOf(new ServerFeedbackIds('k').next())));
    expect(nodes.size).toBe(50);
  });

  it('refuses an empty key', () => {
    expect(() => new ServerFeedbackIds('')).toThrow(/key/);
  });
});
