import { readFileSync } from 'node:fs';

export interface LivenessReport<T> {
  /** What `work` resolved to. */
  result: T;
  /** Slowest probe answer while `work` ran, in milliseconds of wall time. */
  worstMs: number;
  /**
   * Longest the event loop was kept busy during one probe: per probe, the smaller of its wall time
   * and the CPU time the process used meanwhile; the largest over all probes. A synchronous chunk
   * of work raises both; a machine busy with other processes raises only the wall time.
   */
  blockedMs: number;
  /** Probes answered while `work` ran. */
  probes: number;
}

/** CPU time (user + system, ms) of this process. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU time (user + system, ms) of another local process, from /proc (Linux; 10 ms resolution). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10;
}

/**
 * Runs `probe` back to back (e.g. a GET /health/live) for as long as `work` is pending, and
 * reports the slowest answer: a request that blocks the event loop shows up as one slow probe.
 * Each probe first waits for a timer turn of the event loop (and that wait counts in its time), so
 * an in-process probe cannot starve `work` and a blocked loop delays the probe even when the
 * blocking happens between probes. At least `minProbes` probes are made, even if `work` settles
 * first. `cpuMs` reads the CPU time of the process that serves the probes.
 */
export async function measureLiveness<T>(
  work: Promise<T>,
  probe: () => Promise<unknown>,
  { minProbes = 3, cpuMs = ownCpuMs }: { minProbes?: number; cpuMs?: () => number } = {},
): Promise<LivenessReport<T>> {
  let done = false;
  const settled = work.finally(() => {
    done = true;
  });
  let worstMs = 0;
  let blockedMs = 0;
  let probes = 0;
  while (!done || probes < minProbes) {
    const started = performance.now();
    const cpuStarted = cpuMs();
    await new Promise((resolve) => setTimeout(resolve, 1));
    await probe();
    const wall = performance.now() - started;
    worstMs = Math.max(worstMs, wall);
    blockedMs = Math.max(blockedMs, Math.min(wall, cpuMs() - cpuStarted));
    probes++;
  }
  return { result: await settled, worstMs, blockedMs, probes };
}
