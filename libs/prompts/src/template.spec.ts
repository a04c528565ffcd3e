import {
  RenderBudget,
  RenderBudgetExceededError,
  renderTemplate,
  templateVariables,
  utf8Length,
} from './template';

describe('templates ({variable} placeholders)', () => {
  it('renders the reference design template as written', () => {
    expect(renderTemplate('Summarize: {text}', { text: 'the report' })).toEqual({
      text: 'Summarize: the report',
      missing: [],
    });
  });

  it('names every missing variable once, in order of appearance', () => {
    expect(renderTemplate('{a} {b} {a} {c}', { b: 1 })).toEqual({
      text: '{a} 1 {a} {c}',
      missing: ['a', 'c'],
    });
  });

  it('turns {{ and }} into literal braces, like Python str.format', () => {
    expect(renderTemplate('{{text}}', { text: 'x' }).text).toBe('{text}');
    expect(renderTemplate('{{{text}}}', { text: 'x' }).text).toBe('{x}');
    expect(renderTemplate('JSON: {{"a": {n}}}', { n: 1 }).text).toBe('JSON: {"a": 1}');
  });

  it('keeps braces that are not placeholders literally', () => {
    expect(renderTemplate('{"a": 1} { text } {0} {a.b} }', {})).toEqual({
      text: '{"a": 1} { text } {0} {a.b} }',
      missing: [],
    });
  });

  it('stringifies numbers and booleans', () => {
    expect(renderTemplate('{n} {b}', { n: 0.5, b: false }).text).toBe('0.5 false');
  });

  it('does not treat inherited object properties as provided', () => {
    expect(renderTemplate('{constructor}', {}).missing).toEqual(['constructor']);
  });

  it('does not expand placeholders inside substituted values', () => {
    expect(renderTemplate('{a}', { a: '{b}', b: 'no' }).text).toBe('{b}');
  });

  it('lists variables without escaped ones', () => {
    expect(templateVariables('{{not}} {yes} {also_1} {yes}')).toEqual(['yes', 'also_1']);
  });

  it('counts the UTF-8 bytes it produces against a budget and stops past it', () => {
    const budget = new RenderBudget(14);
    // 'é' is 2 bytes, '€' 3: 'x=' + 'é€' + '!' = 2 + 5 + 1 = 8 bytes, then '{{' -> '{' = 9.
    expect(renderTemplate('x={v}!{{', { v: 'é€' }, budget).text).toBe('x=é€!{');
    expect(budget.usedBytes).toBe(9);
    // The budget is shared: 9 + 'abcde' = 14 fits exactly, one more byte does not.
    expect(renderTemplate('{v}', { v: 'abcde' }, budget).text).toBe('abcde');
    expect(() => renderTemplate('{v}', { v: 'z' }, budget)).toThrow(RenderBudgetExceededError);
  });

  it('stops at the first piece past the budget instead of building the whole text', () => {
    const template = '{v}'.repeat(10_000);
    const budget = new RenderBudget(1_000_000);
    let thrown: unknown;
    try {
      renderTemplate(template, { v: 'x'.repeat(10_000) }, budget);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RenderBudgetExceededError);
    // 100 pieces of 10,000 bytes fit; the 101st is the one that crosses the budget.
    expect((thrown as RenderBudgetExceededError).reachedBytes).toBe(1_010_000);
  });

  it('counts UTF-8 bytes as Buffer does, lone surrogates included', () => {
    for (const text of [
      '',
      'abc',
      'é',
      '€',
      '😀',
      'a😀b',
      '\ud800',
      'x\udc00y',
      '\ud83d',
      '\ud83d\ud83d\ude00',
    ]) {
      expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });
});
