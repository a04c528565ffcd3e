import { renderSpec, specVariables } from './render-spec';
import { RenderBudgetExceededError } from './template';

describe('renderSpec', () => {
  it('renders a bare template to text with the model and params', async () => {
    const { prompt, missing } = await renderSpec(
      { template: 'Summarize: {text}', model: 'gpt-4o-mini', params: { temperature: 0.7 } },
      { text: 'abc' },
    );
    expect(missing).toEqual([]);
    expect(prompt).toEqual({ model: 'gpt-4o-mini', params: { temperature: 0.7 }, text: 'Summarize: abc' });
  });

  it('renders chat messages, prepending the system prompt and few-shot pairs', async () => {
    const { prompt } = await renderSpec(
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

  it('turns a template with a system prompt into messages', async () => {
    const { prompt } = await renderSpec({ template: 'T {x}', system: 'S', model: 'm' }, { x: 1 });
    expect(prompt.messages).toEqual([
      { role: 'system', content: 'S' },
      { role: 'user', content: 'T 1' },
    ]);
  });

  it('reports every missing variable across all texts, in order', async () => {
    const spec = { model: 'm', system: '{a}', messages: [{ role: 'user' as const, content: '{b} {c} {a}' }] };
    expect((await renderSpec(spec, { c: 'x' })).missing).toEqual(['a', 'b']);
    expect(specVariables(spec)).toEqual(['a', 'b', 'c']);
  });

  it('stops past maxRenderedBytes, counting every text of the spec together', async () => {
    const spec = { model: 'm', system: '{v}', messages: [{ role: 'user' as const, content: '{v}{v}' }] };
    await expect(renderSpec(spec, { v: 'x'.repeat(100) }, 299)).rejects.toBeInstanceOf(
      RenderBudgetExceededError,
    );
    const { prompt } = await renderSpec(spec, { v: 'x'.repeat(100) }, 300);
    expect(prompt.messages!.map((m) => m.content.length)).toEqual([100, 200]);
  });

  it('yields to the event loop while rendering many placeholders', async () => {
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const { prompt } = await renderSpec({ model: 'm', template: '{v}'.repeat(50_000) }, { v: 'ab' });
    clearInterval(timer);
    expect(prompt.text).toBe('ab'.repeat(50_000));
    expect(turns).toBeGreaterThan(0);
  });
});
