// A ReadContext for connector unit tests: the real HTTP client (pointed at the connector's local fake
// through `baseUrl`), a logger that captures redacted lines, and an AbortController to cancel with.
// Only waiting is different: the retry sleep records what the policy asked for and returns at once, so
// a test can assert "waited 2000 ms for Retry-After" without taking two seconds or reading a clock.
import { resolve } from 'node:path';
import { createHttpClient } from './http.ts';
import type { Sleep } from './http.ts';
import { createLogger } from './log.ts';
import type { LogLevel } from './log.ts';
import type { HttpClient, JsonObject, Logger, ReadContext, ResponseClassifier, RetryPolicy } from './types.ts';

export interface CapturedLog {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

export interface TestContext<C = JsonObject> extends ReadContext<C> {
  /** Every log line as written (after redaction), parsed. */
  logs: CapturedLog[];
  controller: AbortController;
  /** The waits the retry policy asked for, in ms, in order. */
  sleeps: number[];
}

export interface TestContextOverrides<C = JsonObject> extends Partial<Omit<ReadContext<C>, 'options'>> {
  /** The fake's URL (`http://127.0.0.1:<port>`). */
  baseUrl?: string;
  headers?: Record<string, string>;
  classify?: ResponseClassifier;
  /** Values the logger and error messages must mask. */
  secrets?: string[];
  retry?: Partial<RetryPolicy>;
  startDate?: string;
  /** Folder relative paths resolve against (default: the working directory). */
  dir?: string;
  /** Replace the recording sleep (e.g. with a real one). */
  sleep?: Sleep;
}

/** Small but real: three attempts, millisecond backoff, a minute's Retry-After honoured (not waited). */
export const TEST_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 60_000, timeoutMs: 5_000 };

export function createTestContext<C = JsonObject>(overrides: TestContextOverrides<C> = {}): TestContext<C> {
  const controller = new AbortController();
  const signal = overrides.signal ?? controller.signal;
  const logs: CapturedLog[] = [];
  const sleeps: number[] = [];
  const secrets = overrides.secrets ?? [];
  const source = overrides.source ?? 'test';
  const stream = overrides.stream ?? 'test';
  const retry: RetryPolicy = { ...TEST_RETRY_POLICY, ...overrides.retry };
  const log: Logger =
    overrides.log ??
    createLogger({ secrets, level: 'debug', format: 'json', write: (line) => logs.push(JSON.parse(line) as CapturedLog) });
  const sleep: Sleep =
    overrides.sleep ??
    ((ms, s) => {
      sleeps.push(ms);
      // A turn of the event loop, so a test can still abort "during" the wait.
      return new Promise((done, fail) => setImmediate(() => (s.aborted ? fail(s.reason) : done())));
    });
  const http: HttpClient =
    overrides.http ??
    createHttpClient({ baseUrl: overrides.baseUrl, headers: overrides.headers, classify: overrides.classify, retry, signal, log, source, stream, secrets, sleep });
  const dir = overrides.dir ?? process.cwd();
  return {
    source,
    stream,
    config: overrides.config ?? ({} as C),
    state: overrides.state ?? {},
    fullRefresh: overrides.fullRefresh ?? false,
    http,
    log,
    signal,
    resolvePath: overrides.resolvePath ?? ((p) => resolve(dir, p)),
    options: { startDate: overrides.startDate, retry },
    logs,
    controller,
    sleeps,
  };
}
