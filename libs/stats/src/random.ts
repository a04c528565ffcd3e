// Bound once: inside jest's sandbox every lookup of the global `Math` is a slow vm-context access,
// which dominates a tight sampling loop.
const { imul } = Math;

/** mulberry32 (Tommy Ettinger): tiny, fast, good enough for simulation, and reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
