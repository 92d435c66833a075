// Terminal output for the CLI: progress (a live block on a TTY, plain lines otherwise), aligned
// tables, and JSON. Everything printed passes through the pipeline's redaction first.
import { redact, redactValue } from '../config/secrets.ts';
import { describe, formatMs, type ProgressListener, type StreamProgress } from '../engine/progress.ts';

export interface Output {
  json: boolean;
  quiet: boolean;
  secrets: string[];
  out(text: string): void;
  err(text: string): void;
  /** Prints a value as JSON on stdout (for --json), redacted. */
  data(value: unknown): void;
}

export function createOutput(options: { json: boolean; quiet?: boolean }): Output {
  const output: Output = {
    json: options.json,
    quiet: options.quiet ?? false,
    secrets: [],
    out: (text) => process.stdout.write(`${redact(text, output.secrets)}\n`),
    err: (text) => process.stderr.write(`${redact(text, output.secrets)}\n`),
    data: (value) => process.stdout.write(`${JSON.stringify(redactValue(value, output.secrets), null, 2)}\n`),
  };
  return output;
}

/** Aligned columns; numbers right-aligned. */
export function table(rows: Record<string, unknown>[], columns?: string[]): string {
  if (rows.length === 0) return '(none)';
  const cols = columns ?? Object.keys(rows[0]);
  const cell = (v: unknown): string =>
    v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const numeric = cols.map((_, i) => rows.every((r) => typeof r[cols[i]] === 'number' || r[cols[i]] === null || r[cols[i]] === undefined));
  const line = (values: string[]): string =>
    values.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/**
 * Progress for `run`. On a TTY, one live line per stream, redrawn at most 10 times a second; otherwise
 * one log line when a stream starts and ends, and every 5 s while it runs, so CI logs stay readable.
 */
export function progressRenderer(output: Output, stream: NodeJS.WriteStream = process.stderr): ProgressListener & { stop(): void } {
  if (output.json || output.quiet) return { stop() {} };
  const live = new Map<string, StreamProgress>();
  const key = (p: StreamProgress): string => `${p.source}/${p.stream}`;
  if (stream.isTTY) {
    let drawn = 0;
    let timer: NodeJS.Timeout | undefined;
    const draw = (): void => {
      const lines = [...live.values()].map((p) => redact(describe(p), output.secrets));
      if (drawn > 0) stream.write(`\x1b[${drawn}A`);
      for (const l of lines) stream.write(`\x1b[2K${l}\n`);
      drawn = lines.length;
    };
    const schedule = (): void => {
      timer ??= setTimeout(() => {
        timer = undefined;
        draw();
      }, 100);
    };
    return {
      streamStarted: (p) => {
        live.set(key(p), p);
        schedule();
      },
      batchWritten: schedule,
      streamEnded: () => draw(),
      stageEnded: (stage, _summary, ms) => {
        if (stage !== 'extract') stream.write(`${stage.padEnd(28)} done in ${formatMs(ms)}\n`);
      },
      stop: () => {
        if (timer) clearTimeout(timer);
        if (live.size > 0) draw();
      },
    };
  }
  const lastLog = new Map<string, number>();
  return {
    streamStarted: (p) => output.err(`${key(p)}: started`),
    batchWritten: (p) => {
      const now = Date.now();
      if (now - (lastLog.get(key(p)) ?? p.startedAt) >= 5000) {
        lastLog.set(key(p), now);
        output.err(describe(p, now));
      }
    },
    streamEnded: (p) => output.err(p.status === 'failed' ? `${describe(p)}\n  ${p.error}` : describe(p)),
    stageEnded: (stage, summary, ms) => {
      if (stage !== 'extract') output.err(`${stage}: done in ${formatMs(ms)} ${JSON.stringify(summary)}`);
    },
    stop: () => {},
  };
}
