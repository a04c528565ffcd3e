import { diffSpecs } from './spec-diff';

describe('diffSpecs', () => {
  it('lists changed leaves with paths and the changed top-level fields', () => {
    const d = diffSpecs(
      { template: 'a\nb\n', model: 'm1', params: { temperature: 0.7, stop: ['x'], 'top-k': 1 } },
      {
        template: 'a\nc\n',
        model: 'm2',
        params: { temperature: 0.2, stop: ['x', 'y'], 'top-k': 1 },
        system: 'S',
      },
    );
    expect(d.identical).toBe(false);
    expect(d.changedFields).toEqual(['model', 'params', 'system', 'template']);
    expect(d.changes).toEqual([
      { path: 'model', kind: 'changed', from: 'm1', to: 'm2' },
      { path: 'params.stop[1]', kind: 'added', to: 'y' },
      { path: 'params.temperature', kind: 'changed', from: 0.7, to: 0.2 },
      { path: 'system', kind: 'added', to: 'S' },
      { path: 'template', kind: 'changed', from: 'a\nb\n', to: 'a\nc\n' },
    ]);
    expect(d.text.template!.parts).toEqual([
      { op: 'equal', lines: ['a'] },
      { op: 'removed', lines: ['b'] },
      { op: 'added', lines: ['c'] },
    ]);
    expect(d.text.template!.unified).toContain('-b\n+c');
    expect(d.text.system).toBeDefined();
    expect(d.text.messages).toBeUndefined();
  });

  it('diffs messages as role-tagged lines and quotes odd keys', () => {
    const d = diffSpecs(
      { model: 'm', messages: [{ role: 'user', content: 'hi' }], params: { 'a b': 1 } },
      { model: 'm', messages: [{ role: 'user', content: 'hello' }], params: {} },
    );
    expect(d.changes).toEqual([
      { path: 'messages[0].content', kind: 'changed', from: 'hi', to: 'hello' },
      { path: 'params["a b"]', kind: 'removed', from: 1 },
    ]);
    expect(d.text.messages!.parts).toEqual([
      { op: 'equal', lines: ['[user]'] },
      { op: 'removed', lines: ['hi'] },
      { op: 'added', lines: ['hello'] },
    ]);
  });

  it('reports identical specs', () => {
    const d = diffSpecs({ template: 't', model: 'm' }, { model: 'm', template: 't' });
    expect(d).toEqual({ identical: true, changedFields: [], changes: [], text: {} });
  });
});
