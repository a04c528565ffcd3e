import { compileTargeting } from './targeting';

describe('compileTargeting', () => {
  it('matches everyone without rules', () => {
    expect(compileTargeting(undefined)(undefined)).toBe(true);
    expect(compileTargeting([])({ country: 'DE' })).toBe(true);
  });

  it('equals compares strictly, without coercion', () => {
    const p = compileTargeting([{ attribute: 'plan', op: 'equals', value: 1 }]);
    expect(p({ plan: 1 })).toBe(true);
    expect(p({ plan: '1' })).toBe(false);
    expect(p({})).toBe(false);
    expect(p(undefined)).toBe(false);
  });

  it('in / notIn: a missing attribute is never in and always notIn', () => {
    const inRule = compileTargeting([{ attribute: 'country', op: 'in', values: ['DE', 'FR'] }]);
    const notIn = compileTargeting([{ attribute: 'country', op: 'notIn', values: ['DE', 'FR'] }]);
    expect(inRule({ country: 'DE' })).toBe(true);
    expect(inRule({ country: 'US' })).toBe(false);
    expect(inRule({})).toBe(false);
    expect(notIn({ country: 'DE' })).toBe(false);
    expect(notIn({ country: 'US' })).toBe(true);
    expect(notIn({})).toBe(true);
  });

  it('combines rules with AND', () => {
    const p = compileTargeting([
      { attribute: 'country', op: 'in', values: ['DE', 'FR'] },
      { attribute: 'beta', op: 'equals', value: true },
      { attribute: 'tier', op: 'notIn', values: ['free'] },
    ]);
    expect(p({ country: 'DE', beta: true, tier: 'pro' })).toBe(true);
    expect(p({ country: 'DE', beta: true, tier: 'free' })).toBe(false);
    expect(p({ country: 'DE', beta: false })).toBe(false);
    expect(p({ country: 'US', beta: true })).toBe(false);
  });

  it('ignores inherited properties', () => {
    const p = compileTargeting([{ attribute: 'toString', op: 'notIn', values: ['x'] }]);
    expect(p({})).toBe(true);
    const q = compileTargeting([{ attribute: 'constructor', op: 'in', values: ['x'] }]);
    expect(q({})).toBe(false);
  });
});
