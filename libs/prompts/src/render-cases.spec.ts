import fixture from '../fixtures/render-cases.json';
import { renderSpec, type RenderableSpec, type RenderedPrompt } from './render-spec';
import type { TemplateVariables } from './template';

interface RenderCase {
  name: string;
  spec: RenderableSpec;
  variables: TemplateVariables;
  expected: { prompt: RenderedPrompt; missing: string[] };
}

const cases = fixture.cases as unknown as RenderCase[];

/** The shared fixture the SDKs' parity tests render too: this lib is what the registry serves. */
describe('render-cases.json', () => {
  it('holds cases', () => {
    expect(cases.length).toBeGreaterThan(10);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await renderSpec(c.spec, c.variables)).toEqual(c.expected);
  });
});
