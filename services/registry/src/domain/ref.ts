/**
 * How a version ref is read, in this order: a full hash (64 hex), a unique hash prefix (7-63 hex),
 * a version number, an alias. Alias names that could be read as one of the earlier kinds are
 * refused when the alias is created (see `aliasNameProblem`), so a ref never means two things,
 * except digit-only refs of 7+ characters, which are tried as a prefix first, then as a number.
 */
import { ALIAS_NAME_PATTERN } from '@llmops/contracts';
import { NAME_PATTERN } from './prompt-spec';

export const MIN_PREFIX_LENGTH = 7;
export const LATEST_ALIAS = 'latest';

export type RefCandidate =
  | { kind: 'hash'; hash: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'number'; version: number }
  | { kind: 'alias'; alias: string };

const FULL_HASH = /^[0-9a-fA-F]{64}$/;
const PREFIX = /^[0-9a-fA-F]{7,63}$/;
const DIGITS = /^[0-9]{1,15}$/;

/** Interpretations of `ref`, in resolution order; empty when it cannot name anything. */
export function parseRef(ref: string): RefCandidate[] {
  if (FULL_HASH.test(ref)) return [{ kind: 'hash', hash: ref.toLowerCase() }];
  const out: RefCandidate[] = [];
  if (PREFIX.test(ref)) out.push({ kind: 'prefix', prefix: ref.toLowerCase() });
  if (DIGITS.test(ref)) {
    const version = Number(ref);
    if (version >= 1) out.push({ kind: 'number', version });
  }
  if (out.length === 0 && NAME_PATTERN.test(ref) && !/^[0-9]+$/.test(ref))
    out.push({ kind: 'alias', alias: ref });
  return out;
}

/** Why `alias` cannot be set by a client, or undefined when it can. */
export function aliasNameProblem(alias: string): string | undefined {
  if (!ALIAS_NAME_PATTERN.test(alias)) return `alias names must match ${ALIAS_NAME_PATTERN.source}`;
  if (alias === LATEST_ALIAS) return '"latest" is reserved: it always points at the newest version';
  if (/^[0-9]+$/.test(alias)) return 'an alias cannot be all digits (it would read as a version number)';
  if (/^[0-9a-f]{7,}$/.test(alias))
    return 'an alias cannot be 7+ hex characters (it would read as a hash prefix)';
  return undefined;
}
