import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CanonicalizationError, promptHash, sha256Hex, SHORT_HASH_LENGTH } from './index';

interface PromptHashCase {
  name: string;
  spec: unknown;
  specJson?: string;
  canonical: string;
  hash: string;
}

const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'prompt-hashes.json'), 'utf8')) as {
  comment: string;
  cases: PromptHashCase[];
};

describe('promptHash vs the independent Python implementation (rfc8785 + hashlib)', () => {
  it('has at least 20 cases', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(20);
    expect(fixture.comment).toMatch(/rfc8785/);
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = promptHash(c.spec);
    expect(result.canonical).toBe(c.canonical);
    expect(result.hash).toBe(c.hash);
    expect(result.shortHash).toBe(c.hash.slice(0, 12));
    if (c.specJson !== undefined) {
      const fromRaw = promptHash(JSON.parse(c.specJson));
      expect(fromRaw.canonical).toBe(c.canonical);
      expect(fromRaw.hash).toBe(c.hash);
    }
  });

  it('spellings that parse to the same JSON value share a hash; different values do not', () => {
    const byName = new Map(fixture.cases.map((c) => [c.name, c.hash]));
    expect(byName.get('template-temperature-0.70-raw')).toBe(byName.get('template-basic'));
    expect(byName.get('whitespace-and-order-raw')).toBe(byName.get('template-basic'));
    expect(byName.get('template-temperature-1.0-raw')).toBe(byName.get('template-temperature-1-int'));
    expect(byName.get('template-other-model')).not.toBe(byName.get('template-basic'));
    expect(byName.get('string-that-looks-like-number')).not.toBe(byName.get('template-basic'));
    const distinct = new Set(fixture.cases.map((c) => c.hash));
    expect(distinct.size).toBe(fixture.cases.length - 3);
  });
});

describe('promptHash', () => {
  const spec = {
    template: 'Summarize: {text}',
    model: 'gpt-4o-mini',
    params: { temperature: 0.7, max_tokens: 256 },
  };

  it('is SHA-256 (lowercase hex) over the UTF-8 bytes of the canonical JSON', () => {
    const r = promptHash({ ...spec, template: 'Résumé 😀 {text}' });
    expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.hash).toBe(createHash('sha256').update(Buffer.from(r.canonical, 'utf8')).digest('hex'));
    expect(sha256Hex(r.canonical)).toBe(r.hash);
    expect(r.shortHash).toHaveLength(SHORT_HASH_LENGTH);
    expect(r.hash.startsWith(r.shortHash)).toBe(true);
  });

  it('ignores key order and undefined members, but not array order', () => {
    const reordered = {
      params: { max_tokens: 256, temperature: 0.7 },
      model: 'gpt-4o-mini',
      template: 'Summarize: {text}',
      system: undefined,
    };
    expect(promptHash(reordered).hash).toBe(promptHash(spec).hash);
    expect(promptHash({ stop: ['a', 'b'] }).hash).not.toBe(promptHash({ stop: ['b', 'a'] }).hash);
  });

  it('reports error paths rooted at "spec"', () => {
    try {
      promptHash({ params: { x: Number.NaN } });
      throw new Error('expected a CanonicalizationError');
    } catch (e) {
      expect(e).toBeInstanceOf(CanonicalizationError);
      expect((e as CanonicalizationError).path).toBe('spec.params.x');
    }
  });
});
