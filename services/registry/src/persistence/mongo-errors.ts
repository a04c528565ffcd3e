/** E11000, matched by code: mongoose bundles its own driver copy, so instanceof is unreliable. */
export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}
