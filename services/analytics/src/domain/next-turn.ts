/** Lets other requests (and /health/live) run between slices of a long read or computation. */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
