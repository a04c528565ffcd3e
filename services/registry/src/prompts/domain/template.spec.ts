import { renderTemplate, templateVariables } from './template';

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
});
