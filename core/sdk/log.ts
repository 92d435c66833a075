// The run's logger: one line per event on stderr (text for people, JSON lines for log shippers).
// Secrets are the reason this file exists: every message and every field value goes through
// `redact` with the pipeline's secret values, and fields whose name says "credential" are masked
// whatever their value, so a connector that logs a header or a config key by mistake leaks nothing.
import { redact } from '../config/secrets.ts';
import type { Logger } from './types.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  /** Secret values to mask. Read on every call, so a token obtained during the run may be pushed. */
  secrets: readonly string[];
  /** Lowest level written (default info). */
  level?: LogLevel;
  format?: LogFormat;
  /** Receives one line without its newline. Default: stderr, so stdout stays clean for --json. */
  write?: (line: string) => void;
  /** Fields on every line (a child logger adds to them). */
  bindings?: Record<string, unknown>;
  /** Clock for the timestamp (tests). */
  now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const MASK = '***';

/** Field names whose values are credentials whatever they contain (access_token, x-api-key, Authorization …). */
export const SENSITIVE_KEY = /token|secret|passw(or)?d|authori[sz]ation|api[-_]?key|cookie|credential|private[-_]?key/i;

export function createLogger(options: LoggerOptions): Logger {
  const { secrets } = options;
  const min = RANK[options.level ?? 'info'];
  const format = options.format ?? 'text';
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());

  function emit(level: LogLevel, message: string, fields: Record<string, unknown>): void {
    if (RANK[level] < min) return;
    const time = now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const clean = cleanFields(fields, secrets);
    const msg = redact(message, secrets);
    if (format === 'json') {
      write(JSON.stringify({ time, level, msg, ...clean }));
      return;
    }
    // One event, one line: a vendor message with a newline must not forge a second log line.
    const pairs = Object.entries(clean).map(([k, v]) => ` ${k}=${textValue(v)}`);
    write(`${time} ${level.toUpperCase().padEnd(5)} ${oneLine(msg)}${pairs.join('')}`);
  }

  function make(bindings: Record<string, unknown>): Logger {
    return {
      debug: (message, fields) => emit('debug', message, { ...bindings, ...fields }),
      info: (message, fields) => emit('info', message, { ...bindings, ...fields }),
      warn: (message, fields) => emit('warn', message, { ...bindings, ...fields }),
      error: (message, fields) => emit('error', message, { ...bindings, ...fields }),
      child: (more) => make({ ...bindings, ...more }),
    };
  }
  return make(options.bindings ?? {});
}

/** A logger that drops everything (library code that was given none). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

function cleanFields(fields: Record<string, unknown>, secrets: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = SENSITIVE_KEY.test(k) ? MASK : cleanValue(v, secrets, 0);
  }
  return out;
}

function cleanValue(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return redact(value, secrets);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  // An Error's own fields may hold the request (and its headers); keep only what explains it.
  if (value instanceof Error) return redact(`${value.name}: ${value.message}`, secrets);
  if (depth > 5) return '[…]';
  if (Array.isArray(value)) return value.map((v) => cleanValue(v, secrets, depth + 1));
  if (value instanceof Headers) return cleanValue(Object.fromEntries(value), secrets, depth + 1);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SENSITIVE_KEY.test(k) ? MASK : cleanValue(v, secrets, depth + 1);
  return out;
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function oneLine(text: string): string {
  return text.replace(/\r?\n/g, '\\n');
}
