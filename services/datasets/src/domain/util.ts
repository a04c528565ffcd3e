/** Small helpers the service's domain and materialization code share. */

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

/** Code unit order (locale-independent, the order MongoDB sorts strings in). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The object without its undefined members (MongoDB would store them as null). */
export function defined<T extends object>(o: T): T {
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] === undefined) delete o[key];
  return o;
}
