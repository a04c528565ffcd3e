import type { Scope } from '@llmops/contracts';
import type { AppError } from '../errors/app-error';
import { assertMayMoveAlias, assertMayPromote, type Principal } from './principal';

const key = (scopes: Scope[], aliases?: string[]): Principal => ({
  keyId: 'k1',
  project: 'default',
  scopes: new Set(scopes),
  ...(aliases ? { aliases } : {}),
});

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    return err as AppError;
  }
  throw new Error('expected an error');
}

describe('who may move an alias', () => {
  it('assertMayMoveAlias: any alias, or only those the key is limited to', () => {
    expect(() => assertMayMoveAlias(key([]), 'production')).not.toThrow();
    expect(() => assertMayMoveAlias(key([], ['production']), 'production')).not.toThrow();
    expect(errorOf(() => assertMayMoveAlias(key([], ['staging']), 'production'))).toMatchObject({
      status: 403,
      code: 'forbidden',
      details: { keyId: 'k1', allowedAliases: ['staging'] },
    });
  });

  it('assertMayPromote: prompts:promote as well, named in details.requiredScope', () => {
    expect(errorOf(() => assertMayPromote(key(['experiments:write']), 'production'))).toMatchObject({
      status: 403,
      code: 'forbidden',
      details: { keyId: 'k1', requiredScope: 'prompts:promote', alias: 'production' },
    });
    expect(
      errorOf(() => assertMayPromote(key(['prompts:promote'], ['staging']), 'production')),
    ).toMatchObject({
      status: 403,
      details: { allowedAliases: ['staging'] },
    });
    expect(() => assertMayPromote(key(['prompts:promote']), 'production')).not.toThrow();
    expect(() => assertMayPromote(key(['prompts:promote'], ['production']), 'production')).not.toThrow();
  });
});
