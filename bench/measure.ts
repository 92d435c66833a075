// Time and memory of one benchmark stage. Peak RSS is the whole process's — DuckDB's buffers live
// inside it — taken two ways: Linux's high-water mark (VmHWM in /proc/self/status, reset before each
// stage by writing 5 to /proc/self/clear_refs, so it is the stage's own peak) and a 50 ms sampler of
// process.memoryUsage().rss (for systems without /proc, and as a check). The larger one is reported.
import { readFileSync, writeFileSync } from 'node:fs';

export interface StageMeasure {
  ms: number;
  /** CPU time of this process (DuckDB's threads included), ms. */
  cpuMs: number;
  peakRssBytes: number;
  /** How the peak was measured: `vmhwm` (kernel high-water mark) or `sampled`. */
  peakFrom: 'vmhwm' | 'sampled';
}

const MB = 1024 * 1024;

/** VmHWM of this process in bytes, or undefined where /proc is missing. */
export function vmHwm(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false when not allowed or not Linux. */
export function resetHwm(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export async function measure<T>(work: () => Promise<T>): Promise<{ result: T; measure: StageMeasure }> {
  const reset = resetHwm();
  let sampled = process.memoryUsage().rss;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage().rss);
  }, 50);
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    const result = await work();
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    sampled = Math.max(sampled, process.memoryUsage().rss);
    const hwm = reset ? vmHwm() : undefined;
    const fromHwm = hwm !== undefined && hwm >= sampled;
    return {
      result,
      measure: { ms, cpuMs: (used.user + used.system) / 1000, peakRssBytes: fromHwm ? hwm : sampled, peakFrom: fromHwm ? 'vmhwm' : 'sampled' },
    };
  } finally {
    clearInterval(timer);
  }
}

export const mb = (bytes: number): number => Math.round(bytes / MB);

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export const loadAverage = (): string => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
};
