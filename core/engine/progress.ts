// Progress of a run, as events. The engine only emits; the CLI decides how to show them (a live
// table on a TTY, plain log lines otherwise, nothing with --json). Keeping rendering out of the
// engine keeps it testable and usable as a library.

export interface StreamProgress {
  source: string;
  stream: string;
  records: number;
  quarantined: number;
  startedAt: number;
  endedAt?: number;
  status: 'running' | 'done' | 'failed' | 'skipped';
  error?: string;
}

export interface ProgressListener {
  streamStarted?(p: StreamProgress): void;
  batchWritten?(p: StreamProgress): void;
  streamEnded?(p: StreamProgress): void;
  stageStarted?(stage: string): void;
  stageEnded?(stage: string, summary: Record<string, unknown>, ms: number): void;
}

export function rate(p: StreamProgress, now = Date.now()): number {
  const seconds = ((p.endedAt ?? now) - p.startedAt) / 1000;
  return seconds > 0 ? p.records / seconds : 0;
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(Math.round(n));
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** One line per stream: `web/events  12,345 records  8.1k/s  1.5s  (3 quarantined)`. */
export function describe(p: StreamProgress, now = Date.now()): string {
  const elapsed = (p.endedAt ?? now) - p.startedAt;
  const q = p.quarantined > 0 ? `  (${p.quarantined} quarantined)` : '';
  const status = p.status === 'failed' ? '  FAILED' : p.status === 'skipped' ? '  skipped' : '';
  return `${`${p.source}/${p.stream}`.padEnd(28)} ${p.records.toLocaleString('en-US').padStart(11)} records  ${`${formatCount(rate(p, now))}/s`.padStart(7)}  ${formatMs(elapsed).padStart(6)}${q}${status}`;
}
