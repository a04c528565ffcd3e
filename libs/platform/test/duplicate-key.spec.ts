import { isDuplicateKey } from '../src/mongo/duplicate-key';

describe('isDuplicateKey', () => {
  it('is true for E11000 and for bulk errors whose every write error is E11000', () => {
    expect(isDuplicateKey({ code: 11000 })).toBe(true);
    expect(isDuplicateKey({ code: 11000, writeErrors: [{ code: 11000 }, { code: 11000 }] })).toBe(true);
    expect(isDuplicateKey({ writeErrors: { code: 11000 } })).toBe(true);
  });

  it('is false for anything else', () => {
    expect(isDuplicateKey({ code: 11000, writeErrors: [{ code: 11000 }, { code: 14 }] })).toBe(false);
    expect(isDuplicateKey({ code: 11000, writeErrors: [] })).toBe(false);
    expect(isDuplicateKey({ code: 14 })).toBe(false);
    expect(isDuplicateKey(new Error('E11000 duplicate key'))).toBe(false);
    expect(isDuplicateKey(null)).toBe(false);
  });
});
