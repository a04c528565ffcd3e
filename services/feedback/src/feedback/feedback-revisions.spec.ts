import { revisionStoreDesign } from './feedback-revisions';

it.each([
  ['auto', 'mongodb', false, 'plain'],
  ['auto', 'mongodb', true, 'paged'], // the plain design cannot read the pages
  ['auto', 'ferretdb', false, 'paged'],
  ['paged', 'mongodb', false, 'paged'],
  ['plain', 'ferretdb', true, 'plain'],
] as const)('revisionStoreDesign(%s, %s, holds pages: %s) is %s', (setting, server, holdsPages, design) => {
  expect(revisionStoreDesign(setting, server, holdsPages)).toBe(design);
});
