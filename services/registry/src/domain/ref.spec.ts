import { aliasNameProblem, parseRef } from './ref';

const HASH = 'b98eff97ddacaf1acded720335c49189234916c8ea6c3cbbcb9e0f70eab7f255';

describe('parseRef', () => {
  it('reads a full hash (case-insensitively)', () => {
    expect(parseRef(HASH)).toEqual([{ kind: 'hash', hash: HASH }]);
    expect(parseRef(HASH.toUpperCase())).toEqual([{ kind: 'hash', hash: HASH }]);
  });

  it('reads 7-63 hex characters as a prefix', () => {
    expect(parseRef('b98eff9')).toEqual([{ kind: 'prefix', prefix: 'b98eff9' }]);
    expect(parseRef(HASH.slice(0, 12))).toEqual([{ kind: 'prefix', prefix: HASH.slice(0, 12) }]);
  });

  it('reads digits as a version number; 7+ digits are tried as a prefix first', () => {
    expect(parseRef('2')).toEqual([{ kind: 'number', version: 2 }]);
    expect(parseRef('1234567')).toEqual([
      { kind: 'prefix', prefix: '1234567' },
      { kind: 'number', version: 1234567 },
    ]);
    expect(parseRef('0')).toEqual([]);
  });

  it('reads other names as aliases; short hex is an alias, not a prefix', () => {
    expect(parseRef('production')).toEqual([{ kind: 'alias', alias: 'production' }]);
    expect(parseRef('latest')).toEqual([{ kind: 'alias', alias: 'latest' }]);
    expect(parseRef('abc12')).toEqual([{ kind: 'alias', alias: 'abc12' }]);
  });

  it('gives nothing for refs that cannot name a version', () => {
    expect(parseRef('Prod')).toEqual([]);
    expect(parseRef('a b')).toEqual([]);
    expect(parseRef('')).toEqual([]);
    expect(parseRef('x'.repeat(129))).toEqual([]);
  });
});

describe('aliasNameProblem', () => {
  it('accepts ordinary names', () => {
    expect(aliasNameProblem('production')).toBeUndefined();
    expect(aliasNameProblem('canary-2')).toBeUndefined();
    expect(aliasNameProblem('abc12')).toBeUndefined();
  });

  it('refuses latest, numbers, 7+ hex and invalid names', () => {
    expect(aliasNameProblem('latest')).toMatch(/reserved/);
    expect(aliasNameProblem('42')).toMatch(/digits/);
    expect(aliasNameProblem('deadbeef')).toMatch(/hex/);
    expect(aliasNameProblem('Prod')).toMatch(/must match/);
  });
});
