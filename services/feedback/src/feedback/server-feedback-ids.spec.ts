import { uuidv7, uuidv7Time } from '@llmops/platform';
import { ServerFeedbackIds } from './server-feedback-ids';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ServerFeedbackIds', () => {
  it('issues RFC 9562 version-7 ids that carry the time and recognises them', () => {
    const ids = new ServerFeedbackIds(['key-1'], () => 0x0190_0000_0001);
    const id = ids.next();
    expect(id).toMatch(UUID_V7);
    expect(id.startsWith('01900000-0001-7')).toBe(true);
    expect(ids.isServerIssued(id)).toBe(true);
    // Another generator (another replica) with the same key recognises it too.
    expect(new ServerFeedbackIds(['key-1']).isServerIssued(id)).toBe(true);
  });

  it('does not recognise ids of another key, other UUIDv7s, altered ids or other strings', () => {
    const ids = new ServerFeedbackIds(['key-1']);
    const id = ids.next();
    expect(new ServerFeedbackIds(['key-2']).isServerIssued(id)).toBe(false);
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

  it('issues strictly increasing ids, also when thousands are issued in one millisecond', () => {
    const frozen = new ServerFeedbackIds(['key-1'], () => 1_700_000_000_000);
    const issued = Array.from({ length: 20_000 }, () => frozen.next());
    expect(new Set(issued).size).toBe(20_000);
    // The first 74 bits (time, version, counter) order the ids: every id sorts after the previous.
    for (let i = 1; i < issued.length; i++) {
      if (!(issued[i]!.slice(0, 18) > issued[i - 1]!.slice(0, 18))) {
        throw new Error(`id ${i} (${issued[i]}) does not sort after ${issued[i - 1]}`);
      }
    }
    // The time field moved on when a millisecond's counter was spent (at least 2,048 per ms).
    expect(uuidv7Time(issued[0]!)).toBe(1_700_000_000_000);
    const last = uuidv7Time(issued.at(-1)!);
    expect(last).toBeGreaterThan(1_700_000_000_000 + 4);
    expect(last).toBeLessThanOrEqual(1_700_000_000_000 + 20_000 / 2_048);
  });

  it('keeps its ids increasing when the clock goes back', () => {
    let t = 2_000;
    const ids = new ServerFeedbackIds(['key-1'], () => t);
    const a = ids.next();
    t = 1_000;
    const b = ids.next();
    expect(uuidv7Time(b)).toBe(2_000);
    expect(b.slice(0, 18) > a.slice(0, 18)).toBe(true);
    expect(ids.isServerIssued(b)).toBe(true);
  });

  it('rotates keys: the first key tags new ids, every key is recognised', () => {
    const oldId = new ServerFeedbackIds(['old-key-1']).next();
    const rotated = new ServerFeedbackIds(['new-key-1', 'old-key-1']);
    const newId = rotated.next();
    expect(rotated.isServerIssued(oldId)).toBe(true);
    expect(rotated.isServerIssued(newId)).toBe(true);
    expect(new ServerFeedbackIds(['new-key-1']).isServerIssued(newId)).toBe(true);
    expect(new ServerFeedbackIds(['old-key-1']).isServerIssued(newId)).toBe(false);
  });

  it('gives two generators different node ids (30 random bits each)', () => {
    const nodeOf = (id: string): string => id.slice(19, 28);
    const nodes = new Set(Array.from({ length: 50 }, () => nodeOf(new ServerFeedbackIds(['k']).next())));
    expect(nodes.size).toBe(50);
  });

  it('refuses an empty key', () => {
    expect(() => new ServerFeedbackIds([''])).toThrow(/key/);
    expect(() => new ServerFeedbackIds([])).toThrow(/key/);
  });
});
