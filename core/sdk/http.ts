// The one HTTP path connectors use: fetch with the pipeline's retry policy. It retries what a retry can
// fix (429, 500, 502, 503, 504, dropped connections, timeouts) with capped exponential backoff and
// full jitter, honours Retry-After, and refuses to sleep for hours when a quota is spent (QuotaError
// with the reset time). Everything else fails at once with an error that names the source/stream, the
// request (query secrets masked), the status and what the vendor said. `retryingFetch` offers the same
// policy as a `fetch` for vendor client libraries that bring their own request code.
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { redact } from '../config/secrets.ts';
import { AuthError, CancelledError, QuotaError, RunError, TouchpointError } from '../errors.ts';
import type { ErrorOptions } from '../errors.ts';
import type {
  HttpClient,
  HttpDefaults,
  HttpRequest,
  HttpResponse,
  Logger,
  ResponseClassifier,
  RetryPolicy,
} from './types.ts';

/** Waits `ms` unless `signal` aborts first (then rejects). Injectable so tests need not wait. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface RetryingFetchOptions {
  retry: RetryPolicy;
  /** The run's signal: once aborted, nothing is retried and CancelledError is thrown at once. */
  signal: AbortSignal;
  log: Logger;
  source: string;
  /** Empty for source-level calls (`check`). */
  stream: string;
  fetch?: typeof fetch;
  classify?: ResponseClassifier;
  /** Secret values masked in error messages (the logger masks its own). */
  secrets?: readonly string[];
  sleep?: Sleep;
  /** Jitter source in [0, 1) (tests may pin it). */
  random?: () => number;
}

export interface HttpClientOptions extends RetryingFetchOptions {
  baseUrl?: string;
  headers?: Record<string, string>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 60_000, timeoutMs: 60_000 };

/** Rate limit (RFC 6585 §4) and the server errors that mean "not now" rather than "never". */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

// Socket-level failures worth another attempt: the server or a proxy dropped us, or DNS hiccuped.
// ENOTFOUND and TLS errors are absent on purpose: a wrong host or certificate will not heal in seconds.
const TRANSIENT_CODES: Record<string, string> = {
  ECONNRESET: 'connection reset',
  ECONNREFUSED: 'connection refused',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection broken',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  EAI_AGAIN: 'DNS lookup failed for now',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'response headers timed out',
  UND_ERR_BODY_TIMEOUT: 'response body timed out',
};

// Query parameters whose values may be credentials (access_token, api_key, key, sig …).
const SENSITIVE_QUERY_KEY = /token|secret|passw(or)?d|auth|key|signature|^sig$|credential|^code$|session/i;

/** A request that failed for good: a 4xx the vendor will not change its mind on, or attempts spent. */
export class HttpError extends RunError {
  readonly method: string;
  /** Path and query, credentials masked. */
  readonly url: string;
  readonly status: number | undefined;
  readonly attempts: number;
  readonly vendorMessage: string | undefined;
  constructor(
    message: string,
    options: ErrorOptions & { method: string; url: string; status?: number; attempts: number; vendorMessage?: string },
  ) {
    super(message, options);
    this.method = options.method;
    this.url = options.url;
    this.status = options.status;
    this.attempts = options.attempts;
    this.vendorMessage = options.vendorMessage;
  }
}

interface Policy {
  retry: RetryPolicy;
  signal: AbortSignal;
  log: Logger;
  where: string;
  fetch: typeof fetch;
  secrets: readonly string[];
  sleep: Sleep;
  random: () => number;
}

/** What went wrong on one attempt that another attempt may fix. */
interface Failure {
  reason: string;
  status?: number;
  vendor?: string;
  retryAfterMs?: number;
  cause?: unknown;
}

type Step<T> = { done: T } | { retry: Failure; giveUp?: () => T };

interface Call {
  method: string;
  /** `GET /v3/contacts?after=10&api_key=***` */
  shown: string;
  timeoutMs: number;
  maxAttempts: number;
}

/** Thrown inside an attempt to hand an error to the caller untouched (its own signal aborted). */
class PassThrough {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  return makeClient(toPolicy(options), { baseUrl: options.baseUrl, headers: options.headers, classify: options.classify });
}

/**
 * A `fetch` with our policy for vendor libraries (gaxios `fetchImplementation` …). It returns the final
 * response for the library to read (so it keeps its own error types and 401 token refresh): 2xx and
 * non-retryable statuses at once, a retryable one once attempts are spent. It throws only when waiting
 * is pointless (QuotaError), on cancellation (CancelledError) and when the network failed every time.
 * Turn the library's own retries off, or every wait happens twice.
 */
export function retryingFetch(options: RetryingFetchOptions): typeof fetch {
  return fetchWith(toPolicy(options), options.classify);
}

function toPolicy(o: RetryingFetchOptions): Policy {
  return {
    retry: { ...o.retry, maxAttempts: Math.max(1, Math.floor(o.retry.maxAttempts)) },
    signal: o.signal,
    log: o.log,
    where: o.stream ? `${o.source}/${o.stream}` : o.source,
    fetch: o.fetch ?? globalThis.fetch,
    secrets: o.secrets ?? [],
    sleep: o.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal })),
    random: o.random ?? Math.random,
  };
}

function makeClient(p: Policy, d: HttpDefaults): HttpClient {
  async function request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = buildUrl(d.baseUrl, req.url, req.query, p.where);
    const { body, contentType, replayable } = encodeBody(req.body);
    const headers = new Headers({ accept: 'application/json', ...d.headers, ...req.headers });
    if (contentType && !headers.has('content-type')) headers.set('content-type', contentType);
    const r: Call = {
      method,
      shown: `${method} ${showUrl(url, p.secrets)}`,
      timeoutMs: req.timeoutMs ?? p.retry.timeoutMs,
      maxAttempts: replayable ? p.retry.maxAttempts : 1,
    };
    return attempts(p, r, async (signal, n): Promise<Step<HttpResponse<T>>> => {
      const response = await p.fetch(url, { method, headers, body, signal });
      const text = await response.text();
      if (response.ok) {
        p.log.debug(`${r.shown} → ${response.status}`);
        return { done: { status: response.status, headers: response.headers, body: parseOk(text, response, p, r, n) as T } };
      }
      const judged = judge(p, r, n, d.classify, response, parseLoose(text, response));
      if ('error' in judged) throw judged.error;
      return { retry: judged.failure };
    });
  }
  return {
    request,
    get: (url, query, headers) => request({ method: 'GET', url, query, headers }),
    post: (url, body, headers) => request({ method: 'POST', url, body, headers }),
    extend: (more) =>
      makeClient(p, {
        baseUrl: more.baseUrl ?? d.baseUrl,
        headers: { ...d.headers, ...more.headers },
        classify: more.classify ?? d.classify,
      }),
    fetch: fetchWith(p, d.classify),
  };
}

function fetchWith(p: Policy, classify: ResponseClassifier | undefined): typeof fetch {
  return async (input, init) => {
    const isRequest = input instanceof globalThis.Request;
    const method = (init?.method ?? (isRequest ? input.method : 'GET')).toUpperCase();
    const url = isRequest ? input.url : String(input);
    const own = init?.signal ?? (isRequest ? input.signal : undefined);
    const r: Call = {
      method,
      shown: `${method} ${showUrl(url, p.secrets)}`,
      timeoutMs: p.retry.timeoutMs,
      // A stream body is consumed by the first attempt; a Request is cloned per attempt instead.
      maxAttempts: init?.body instanceof ReadableStream ? 1 : p.retry.maxAttempts,
    };
    return attempts(p, r, async (signal, n): Promise<Step<Response>> => {
      let response: Response;
      let text: string;
      try {
        response = await p.fetch(isRequest ? input.clone() : input, { ...init, signal: own ? AbortSignal.any([signal, own]) : signal });
        // A 2xx body is the library's to read (the attempt timeout still covers it); others we judge.
        if (response.ok) return { done: response };
        text = await response.text();
      } catch (error) {
        if (own?.aborted) throw new PassThrough(error);
        throw error;
      }
      const copy = () => rebuild(response, text);
      const judged = judge(p, r, n, classify, response, parseLoose(text, response));
      if ('failure' in judged) return { retry: judged.failure, giveUp: copy };
      if (judged.error instanceof QuotaError) throw judged.error;
      return { done: copy() };
    });
  };
}

/** The retry loop shared by the client and `retryingFetch`. */
async function attempts<T>(p: Policy, r: Call, attempt: (signal: AbortSignal, n: number) => Promise<Step<T>>): Promise<T> {
  for (let n = 1; ; n++) {
    if (p.signal.aborted) throw cancelled(p, r);
    const timeout = AbortSignal.timeout(r.timeoutMs);
    let step: Step<T>;
    try {
      step = await attempt(AbortSignal.any([p.signal, timeout]), n);
    } catch (error) {
      if (error instanceof PassThrough) throw error.error;
      if (error instanceof TouchpointError) throw error;
      if (p.signal.aborted) throw cancelled(p, r, error);
      step = { retry: networkFailure(p, r, n, error, timeout.aborted) };
    }
    if ('done' in step) return step.done;
    const f = step.retry;
    if (f.retryAfterMs !== undefined && f.retryAfterMs > p.retry.maxDelayMs) throw tooLong(p, r, f);
    if (n >= r.maxAttempts) {
      if (step.giveUp) return step.giveUp();
      throw new HttpError(`${r.shown} failed after ${n} attempt${n === 1 ? '' : 's'}: ${f.reason}`, {
        where: p.where,
        transient: true,
        hint: 'the API kept failing; the next run resumes from the last committed state (attempts and waits: settings.retry)',
        method: r.method,
        url: r.shown,
        status: f.status,
        attempts: n,
        vendorMessage: f.vendor,
        cause: f.cause,
      });
    }
    const ms = Math.round(f.retryAfterMs ?? backoff(p, n));
    p.log.warn(`retrying ${r.shown} in ${ms} ms (attempt ${n + 1} of ${r.maxAttempts}): ${f.reason}`, {
      attempt: n + 1,
      delayMs: ms,
      status: f.status,
    });
    try {
      await p.sleep(ms, p.signal);
    } catch (error) {
      if (p.signal.aborted) throw cancelled(p, r, error);
      throw error;
    }
  }
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, min(cap, base·2^n)). */
function backoff(p: Policy, failedAttempt: number): number {
  return p.random() * Math.min(p.retry.maxDelayMs, p.retry.baseDelayMs * 2 ** (failedAttempt - 1));
}

/**
 * Retry-After (RFC 9110 §10.2.3) is either delay-seconds or an HTTP-date; a date in the past means
 * "now". Fractional seconds are not in the grammar but some vendors send them; they are honoured.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

type Judgement = { failure: Failure } | { error: TouchpointError };

/** Decides what a non-2xx response means: retry, quota, auth or a terminal failure. */
function judge(p: Policy, r: Call, n: number, classify: ResponseClassifier | undefined, response: Response, body: unknown): Judgement {
  const status = response.status;
  const line = `${status} ${response.statusText || STATUS_CODES[status] || 'HTTP error'}`;
  const vendor = clean(vendorMessage(body), p.secrets);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const verdict = classify?.(response, body);
  const said = (m: string | undefined) => clean(m, p.secrets) ?? vendor;
  const http = { method: r.method, url: r.shown, status, attempts: n, where: p.where };

  if (verdict?.kind === 'quota') {
    const when = verdict.resetsAt ? `; resets at ${verdict.resetsAt.toISOString()}` : '';
    return {
      error: new QuotaError(`${r.shown}: ${verdict.quota ?? 'quota'} exhausted (${line})${suffix(said(verdict.message))}${when}`, {
        where: p.where,
        quota: verdict.quota,
        resetsAt: verdict.resetsAt,
        hint: verdict.resetsAt
          ? `re-run after ${verdict.resetsAt.toISOString()}; the stream resumes from its last committed state`
          : 'wait for the quota to reset or ask the vendor for a higher one; the stream resumes from its last committed state',
      }),
    };
  }
  if (verdict?.kind === 'transient') {
    return { failure: { reason: `${line}${suffix(said(verdict.message))}`, status, vendor: said(verdict.message), retryAfterMs: verdict.retryAfterMs ?? retryAfterMs } };
  }
  if (verdict?.kind === 'auth' || (!verdict && (status === 401 || status === 403))) {
    const denied = status === 403 ? 'permission denied' : 'authentication failed';
    return {
      error: new AuthError(`${denied} (${line})${suffix(said(verdict?.message))}`, {
        where: p.where,
        hint:
          status === 403
            ? `check that the credentials grant the scopes ${r.shown} needs`
            : `check the credentials in the source config (expired or revoked?); ${r.shown} was refused`,
      }),
    };
  }
  if (verdict?.kind === 'terminal' || !RETRY_STATUSES.has(status)) {
    const message = said(verdict?.message);
    return {
      error: new HttpError(`${r.shown} failed (${line})${suffix(message)}`, {
        ...http,
        vendorMessage: message,
        hint:
          status === 404
            ? 'check the ids in the source config (account, property …) and the API base URL'
            : 'the API refused the request and retrying will not change that; check the source config values it uses',
      }),
    };
  }
  return { failure: { reason: `${line}${suffix(vendor)}`, status, vendor, retryAfterMs } };
}

/** The server asked for a longer wait than the policy allows: a spent quota, not a blip. */
function tooLong(p: Policy, r: Call, f: Failure): QuotaError {
  const resetsAt = new Date(Date.now() + (f.retryAfterMs ?? 0));
  const iso = resetsAt.toISOString();
  return new QuotaError(
    `${r.shown}: rate limited (${f.reason}) until ${iso}; Retry-After ${Math.ceil((f.retryAfterMs ?? 0) / 1000)} s exceeds maxDelayMs ${p.retry.maxDelayMs} ms`,
    {
      where: p.where,
      quota: 'rate limit',
      resetsAt,
      hint: `re-run after ${iso}; the stream resumes from its last committed state`,
    },
  );
}

function networkFailure(p: Policy, r: Call, n: number, error: unknown, timedOut: boolean): Failure {
  if (timedOut) return { reason: `no response within ${r.timeoutMs} ms`, cause: error };
  const code = errorCode(error);
  if (code && Object.hasOwn(TRANSIENT_CODES, code)) return { reason: `${TRANSIENT_CODES[code]} (${code})`, cause: error };
  const detail = code ? `${code}: ${innermost(error)}` : innermost(error);
  throw new HttpError(`${r.shown} failed: ${clean(detail, p.secrets)}`, {
    where: p.where,
    method: r.method,
    url: r.shown,
    attempts: n,
    hint: code === 'ENOTFOUND' ? 'check the API base URL (host not found)' : undefined,
    cause: error,
  });
}

function cancelled(p: Policy, r: Call, cause?: unknown): CancelledError {
  return new CancelledError(`run cancelled during ${r.shown}`, { where: p.where, cause });
}

/** The first `code` on the error, its causes, or an AggregateError's members (undici nests them). */
function errorCode(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') return e.code;
  const fromCause = errorCode(e.cause, depth + 1);
  if (fromCause) return fromCause;
  if (Array.isArray(e.errors)) for (const inner of e.errors) {
    const c = errorCode(inner, depth + 1);
    if (c) return c;
  }
  return undefined;
}

function innermost(error: unknown): string {
  let e = error;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Pulls the human part out of the error bodies vendors send: `{message}` (HubSpot), `{error:{message}}`
 * (Google, Meta), OAuth's `{error, error_description}`, RFC 9457 problem details, `{errors:[{message}]}`.
 */
export function vendorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    const t = body.trim();
    return t && !t.startsWith('<') ? t : undefined;
  }
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, any>;
  if (str(b.error) && str(b.error_description)) return `${b.error}: ${b.error_description}`;
  const first = Array.isArray(b.errors) ? b.errors[0] : undefined;
  return (
    str(b.error?.message) ??
    str(b.message) ??
    str(b.error_description) ??
    str(b.detail) ??
    str(b.error_message) ??
    str(b.errorMessage) ??
    str(first?.message) ??
    str(first) ??
    str(b.title) ??
    str(b.error) ??
    str(b.msg)
  );
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function clean(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (!text) return undefined;
  const one = redact(text, secrets).replace(/\s+/g, ' ');
  return one.length > 300 ? `${one.slice(0, 300)}…` : one;
}

function suffix(message: string | undefined): string {
  return message ? `: ${message}` : '';
}

/** Path and query for messages: credentials in the query masked, the host and user-info left out. */
export function showUrl(url: string, secrets: readonly string[] = []): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redact(url.split('?')[0], secrets);
  }
  const parts: string[] = [];
  for (const [k, v] of u.searchParams) parts.push(`${k}=${SENSITIVE_QUERY_KEY.test(k) ? '***' : v}`);
  let query = parts.length > 0 ? `?${parts.join('&')}` : '';
  if (query.length > 200) query = `${query.slice(0, 200)}…`;
  return redact(`${u.pathname}${query}`, secrets);
}

function buildUrl(baseUrl: string | undefined, url: string, query: HttpRequest['query'], where: string): string {
  let full = url;
  if (!/^https?:\/\//i.test(url)) {
    if (!baseUrl) throw new RunError(`relative URL "${url}" but the HTTP client has no baseUrl`, { where });
    // Joined, not resolved: new URL('contacts', 'https://x/v3') would drop the /v3 path.
    full = `${baseUrl.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
  }
  const u = new URL(full);
  for (const [key, value] of Object.entries(query ?? {})) {
    const values: readonly unknown[] = Array.isArray(value) ? value : [value];
    for (const v of values) if (v !== undefined && v !== null) u.searchParams.append(key, String(v));
  }
  return u.toString();
}

function encodeBody(body: unknown): { body: BodyInit | undefined; contentType?: string; replayable: boolean } {
  if (body === undefined || body === null) return { body: undefined, replayable: true };
  if (typeof body === 'string') return { body, contentType: 'text/plain;charset=UTF-8', replayable: true };
  if (body instanceof URLSearchParams || body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    return { body: body as BodyInit, replayable: true };
  }
  if (body instanceof ReadableStream) return { body, replayable: false };
  return { body: JSON.stringify(body), contentType: 'application/json', replayable: true };
}

function isJson(response: Response): boolean {
  return /[/+]json\b/i.test(response.headers.get('content-type') ?? '');
}

function parseOk(text: string, response: Response, p: Policy, r: Call, n: number): unknown {
  if (text === '') return null;
  if (!isJson(response)) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(`${r.shown}: the ${response.status} response is not valid JSON (${text.length} bytes)`, {
      where: p.where,
      method: r.method,
      url: r.shown,
      status: response.status,
      attempts: n,
      hint: 'the API base URL may point at something else (a proxy or a login page)',
      cause: error,
    });
  }
}

/** Error bodies: JSON when it parses (whatever the content-type claims), else the text. */
function parseLoose(text: string, response: Response): unknown {
  if (text === '') return null;
  if (isJson(response) || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function rebuild(response: Response, text: string): Response {
  // Fetch forbids a body on these statuses.
  const nullBody = [101, 103, 204, 205, 304].includes(response.status);
  const copy = new Response(nullBody ? null : text, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperty(copy, 'url', { value: response.url });
  return copy;
}
