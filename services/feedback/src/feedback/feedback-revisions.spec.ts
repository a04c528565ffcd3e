import { revisionStoreDesign } from './feedback-revisions';

describe('revisionStoreDesign', () => {
  it('auto: plain on a MongoDB without pages; paged on FerretDB and on a MongoDB that holds pages', () => {
    expect(revisionStoreDesign('auto', 'mongodb', false)).toBe('plain');
    expect(revisionStoreDesign('auto', 'mongodb', true)).toBe('paged');
    expect(revisionStoreDesign('auto', 'ferretdb', false)).toBe('paged');
  });

  it('an explicit setting wins', () => {
    expect(revisionStoreDesign('paged', 'mongodb', false)).toBe('paged');
    expect(revisionStoreDesign('plain', 'ferretdb', true)).toBe('plain');
  });
});
