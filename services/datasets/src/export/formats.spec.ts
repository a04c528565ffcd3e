import {
  type ChatRecordFields,
  evalLine,
  FORMATS_OF,
  lineWriter,
  openAiChatLine,
  openAiPreferenceLine,
  type PreferenceRecordFields,
  trlDpoLine,
} from './formats';

const chat: ChatRecordFields = {
  id: 'req-1',
  input: [
    { role: 'system', content: 'You summarize support tickets.' },
    { role: 'user', content: 'Printer on fire, please advise.' },
  ],
  output: 'The printer is fine.',
  correction: 'Evacuate, then call facilities.',
  prompt: { name: 'summarizer', hash: 'ab12' },
  model: 'gpt-4o-mini',
  experiment: 'summarizer-v2',
  arm: 'B',
  signals: {
    correction: { value: 'Evacuate, then call facilities.', source: 'reviewer', feedbackId: 'f-2' },
    rating: { value: 2, source: 'user', feedbackId: 'f-1' },
  },
};

const pair: PreferenceRecordFields = {
  input: 'Summarize: the meeting moved to 3pm.',
  preferred: 'Meeting now at 3pm.',
  rejected: 'There was a meeting.',
};

describe('export formats', () => {
  it('openai-chat: input messages as given, then the correction as the assistant turn', () => {
    expect(openAiChatLine(chat)).toBe(
      '{"messages":[{"role":"system","content":"You summarize support tickets."},{"role":"user","content":"Printer on fire, please advise."},{"role":"assistant","content":"Evacuate, then call facilities."}]}\n',
    );
  });

  it('openai-chat: a string input is one user message; without a correction the output answers', () => {
    expect(openAiChatLine({ id: 'r', input: 'Hi', output: 'Hello!', model: 'm' })).toBe(
      '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]}\n',
    );
  });

  it('openai-preference', () => {
    expect(openAiPreferenceLine(pair)).toBe(
      '{"input":{"messages":[{"role":"user","content":"Summarize: the meeting moved to 3pm."}]},"preferred_output":[{"role":"assistant","content":"Meeting now at 3pm."}],"non_preferred_output":[{"role":"assistant","content":"There was a meeting."}]}\n',
    );
  });

  it('trl-dpo: conversational prompt, chosen and rejected', () => {
    expect(trlDpoLine(pair)).toBe(
      '{"prompt":[{"role":"user","content":"Summarize: the meeting moved to 3pm."}],"chosen":[{"role":"assistant","content":"Meeting now at 3pm."}],"rejected":[{"role":"assistant","content":"There was a meeting."}]}\n',
    );
  });

  it('eval: the correction is expected, with its feedback source', () => {
    expect(evalLine(chat)).toBe(
      '{"input":[{"role":"system","content":"You summarize support tickets."},{"role":"user","content":"Printer on fire, please advise."}],"expected":"Evacuate, then call facilities.","metadata":{"id":"req-1","model":"gpt-4o-mini","prompt":{"name":"summarizer","hash":"ab12"},"experiment":"summarizer-v2","arm":"B","expectedFrom":"correction","source":"reviewer"}}\n',
    );
  });

  it('eval: without a correction the rated output is expected; absent values are empty strings', () => {
    expect(
      evalLine({
        id: 'req-2',
        input: 'Capital of France?',
        output: 'Paris.',
        model: 'm',
        signals: { rating: { value: 5, source: 'judge', feedbackId: 'f-3' } },
      }),
    ).toBe(
      '{"input":[{"role":"user","content":"Capital of France?"}],"expected":"Paris.","metadata":{"id":"req-2","model":"m","prompt":{"name":"","hash":""},"experiment":"","arm":"","expectedFrom":"rating","source":"judge"}}\n',
    );
  });

  it('eval: every line has the same metadata keys, whatever the record lacks', () => {
    const keys = (line: string): string[] => {
      const { metadata } = JSON.parse(line) as { metadata: Record<string, unknown> };
      return Object.entries(metadata).flatMap(([k, v]) =>
        typeof v === 'object' && v !== null ? Object.keys(v).map((n) => `${k}.${n}`) : [k],
      );
    };
    const bare = evalLine({ id: 'r', input: 'q', output: 'a', model: 'm' });
    expect(keys(bare)).toEqual(keys(evalLine(chat)));
    expect(bare).not.toContain('null');
  });

  it('writes input messages as role and content only, so every line has the same columns', () => {
    const input = [{ role: 'user' as const, content: 'Hi', name: 'extra' }];
    expect(openAiChatLine({ id: 'r', input, output: 'Hello', model: 'm' })).toBe(
      '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}\n',
    );
  });

  it('escapes text so that every record stays on one line', () => {
    const line = openAiChatLine({ id: 'r', input: 'a\nb\u2028c', output: '"q"\r\n', model: 'm' });
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual({
      messages: [
        { role: 'user', content: 'a\nb\u2028c' },
        { role: 'assistant', content: '"q"\r\n' },
      ],
    });
  });

  it('lineWriter picks the format, and each dataset format offers its own (default first)', () => {
    expect(lineWriter('trl-dpo')(pair as unknown as Record<string, unknown>)).toBe(trlDpoLine(pair));
    expect(lineWriter('openai-chat')(chat as unknown as Record<string, unknown>)).toBe(openAiChatLine(chat));
    expect(FORMATS_OF).toEqual({
      chat: ['openai-chat'],
      preference: ['openai-preference', 'trl-dpo'],
      eval: ['eval'],
    });
  });
});
