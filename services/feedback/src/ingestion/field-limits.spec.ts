import { checkEventSize, checkTextLimits } from './field-limits';

describe('checkTextLimits', () => {
  const field = (value: string | undefined, limitBytes: number) => ({
    path: 'comment',
    value,
    limitBytes,
    envVar: 'X',
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(checkTextLimits([field('é'.repeat(5), 10)])).toBeUndefined();
    expect(checkTextLimits([field('é'.repeat(6), 10)])).toMatchObject({
      status: 413,
      code: 'field_too_large',
      details: { path: 'comment', bytes: 12, limitBytes: 10 },
    });
    expect(checkTextLimits([field('😀'.repeat(3), 11)])?.details).toMatchObject({ bytes: 12 });
  });

  it('ignores absent fields and reports the first field over its limit', () => {
    expect(
      checkTextLimits([field(undefined, 1), { ...field('xx', 1), path: 'correction' }])?.details,
    ).toMatchObject({
      path: 'correction',
    });
  });

  it('checkEventSize', () => {
    expect(checkEventSize('x'.repeat(100), 100)).toBeUndefined();
    expect(checkEventSize('x'.repeat(101), 100)).toMatchObject({ status: 413, code: 'event_too_large' });
  });
});
