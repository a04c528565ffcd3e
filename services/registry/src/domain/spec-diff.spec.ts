import { diffSpecs, TextTooDifferentToDiffError, TextTooLargeToDiffError } from './spec-diff';

describe('diffSpecs', () => {
  it('lists changed leaves with paths and the changed top-level fields', async () => {
    const d = await diffSpecs(
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

  it('diffs messages as role-tagged lines and quotes odd keys', async () => {
    const d = await diffSpecs(
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

  it('reports identical specs', async () => {
    const d = await diffSpecs({ template: 't', model: 'm' }, { model: 'm', template: 't' });
    expect(d).toEqual({ identical: true, changedFields: [], changes: [], text: {} });
  });

  const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} ${i}`).join('\n');

  it('refuses a text over the line limit before diffing it', async () => {
    const limits = { maxLines: 100, maxChangedLines: 1_000, timeoutMs: 10_000 };
    const big = { template: lines(101, 'x'), model: 'm' };
    await expect(diffSpecs({ template: 'a', model: 'm' }, big, undefined, limits)).rejects.toMatchObject({
      constructor: TextTooLargeToDiffError,
      field: 'template',
      lines: 101,
      maxLines: 100,
    });
    // A trailing newline does not make another line.
    const fits = { template: `${lines(100, 'x')}\n`, model: 'm' };
    expect((await diffSpecs({ template: 'a', model: 'm' }, fits, undefined, limits)).changedFields).toEqual([
      'template',
    ]);
  });

  it('gives up past the changed-line limit instead of running a quadratic diff', async () => {
    const limits = { maxLines: 10_000, maxChangedLines: 50, timeoutMs: 10_000 };
    const from = { model: 'm', system: lines(100, 'a') };
    const to = { model: 'm', system: lines(100, 'b') };
    await expect(diffSpecs(from, to, undefined, limits)).rejects.toBeInstanceOf(TextTooDifferentToDiffError);
    // 10 replaced lines of 100 are 20 changed lines (a removal and an addition each), within 50.
    const near = { model: 'm', system: lines(100, 'a').replace(/a (\d*0)$/gm, 'c $1') };
    const d = await diffSpecs(from, near, undefined, limits);
    expect(d.text.system!.parts.filter((p) => p.op === 'removed').flatMap((p) => p.lines)).toHaveLength(10);
  });
});
