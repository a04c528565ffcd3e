let lastMs = Number.NaN;
let lastTime = '';

/**
 * `new Date(ms).toISOString()`, remembered for the last millisecond asked: a busy service stamps
 * many events within one millisecond.
 */
export function eventTime(ms: number = Date.now()): string {
  if (ms !== lastMs) {
    lastTime = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastTime;
}
