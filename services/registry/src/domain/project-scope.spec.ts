import { scopedId, unscopedPart } from './project-scope';

describe('scopedId', () => {
  it('keeps the ids of project default as they were before projects', () => {
    expect(scopedId('default', 'summarizer', 'abc')).toBe('summarizer/abc');
    expect(unscopedPart('default', 'summarizer')).toBe('summarizer');
  });

  it('starts the ids of every other project with the project', () => {
    expect(scopedId('team-a', 'summarizer', 'production', 3)).toBe('team-a/summarizer/production/3');
    expect(unscopedPart('team-a', scopedId('team-a', 'summarizer'))).toBe('summarizer');
  });
});
