import { renderSpec, specVariables } from './render-spec';

describe('renderSpec', () => {
  it('renders a bare template to text with the model and params', () => {
    const { prompt, missing } = renderSpec(
      { template: 'Summarize: {text}', model: 'gpt-4o-mini', params: { temperature: 0.7 } },
      { text: 'abc' },
    );
    expect(missing).toEqual([]);
    expect(prompt).toEqual({ model: 'gpt-4o-mini', params: { temperature: 0.7 }, text: 'Summarize: abc' });
  });

  it('renders chat messages, prepending the system prompt and few-shot pairs', () => {
    const { prompt } = renderSpec(
      {
        model: 'm',
        system: 'You are {persona}.',
        fewShot: [{ input: 'Q1', output: 'A1' }],
        messages: [{ role: 'user', content: 'Hi {name}' }],
        tools: [{ type: 'function' }],
        responseFormat: { type: 'json_object' },
      },
      { persona: 'terse', name: 'Ada' },
    );
    expect(prompt.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Hi Ada' },
    ]);
    expect(prompt.params).toEqual({});
    expect(prompt.tools).toEqual([{ type: 'function' }]);
    expect(prompt.responseFormat).toEqual({ type: 'json_object' });
    expect(prompt.text).toBeUndefined();
  });

  it('turns a template with a system prompt into messages', () => {
    const { prompt } = renderSpec({ template: 'T {x}', system: 'S', model: 'm' }, { x: 1 });
    expect(prompt.messages).toEqual([
      { role: 'system', content: 'S' },
      { role: 'user', content: 'T 1' },
    ]);
  });

  it('reports every missing variable across all texts, in order', () => {
    const spec = { model: 'm', system: '{a}', messages: [{ role: 'user' as const, content: '{b} {c} {a}' }] };
    expect(renderSpec(spec, { c: 'x' }).missing).toEqual(['a', 'b']);
    expect(specVariables(spec)).toEqual(['a', 'b', 'c']);
  });
});
