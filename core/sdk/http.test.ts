// The HTTP client and retryingFetch against a real node:http server on 127.0.0.1: no fetch mocks. Waits
// go through the injected sleep (recorded, not slept), so no assertion depends on the wall clock.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, CancelledError, QuotaError, RunError } from '../errors.ts';
import { HttpError, createHttpClient, parseRetryAfter, retryingFetch, showUrl, vendorMessage } from './http.ts';
import { createLogger } from './log.ts';
import { createTestContext } from './testing.ts';
import type { TestContextOverrides } from './testing.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (req: IncomingMessage, res: ServerResponse, n: number, body: string) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
});

/** A local server; `handler` gets the 1-based request number. */
async function serve(handler: Handler): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, seen.length, body);
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function context(baseUrl: string, more: TestContextOverrides = {}) {
  return createTestContext({ baseUrl, source: 'crm', stream: 'contacts', ...more });
}

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createHttpClient', () => {
  it('runs on the Node the project pins (AbortSignal.any, type stripping)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('waits for Retry-After (delta-seconds) on 429, then succeeds', async () => {
    const { url, seen } = await serve((_q, res, n) =>
      n === 1 ? json(res, 429, { message: 'slow down' }, { 'retry-after': '2' }) : json(res, 200, { results: [1, 2] }),
    );
    const ctx = await context(url);
    const res = await ctx.http.get<{ results: number[] }>('/crm/v3/objects/contacts', { limit: 2 });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([1, 2]);
    expect(seen).toHaveLength(2);
    expect(seen[1].url).toBe('/crm/v3/objects/contacts?limit=2');
    expect(ctx.sleeps).toEqual([2000]);
    const warn = ctx.logs.find((l) => l.level === 'warn');
    expect(warn?.msg).toContain('retrying GET /crm/v3/objects/contacts?limit=2 in 2000 ms (attempt 2 of 3): 429 Too Many Requests: slow down');
  });

  it('waits for Retry-After given as an HTTP-date', async () => {
    // HTTP-dates have whole seconds, so the wait is between 1 and 3 s of the 3 s asked for.
    const { url } = await serve((_q, res, n) =>
      n === 1 ? json(res, 503, {}, { 'retry-after': new Date(Date.now() + 3000).toUTCString() }) : json(res, 200, { ok: true }),
    );
    const ctx = await context(url);
    await ctx.http.get('/x');
    expect(ctx.sleeps).toHaveLength(1);
    expect(ctx.sleeps[0]).toBeGreaterThan(1000);
    expect(ctx.sleeps[0]).toBeLessThanOrEqual(3000);
  });

  it('retries 503 twice with capped, jittered backoff, then succeeds', async () => {
    const { url, seen } = await serve((_q, res, n) => (n <= 2 ? json(res, 503, { message: 'busy' }) : json(res, 200, { n })));
    const ctx = await context(url, { retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 150 } });
    const res = await ctx.http.get<{ n: number }>('/x');
    expect(res.body.n).toBe(3);
    expect(seen).toHaveLength(3);
    expect(ctx.sleeps).toHaveLength(2);
    expect(ctx.sleeps[0]).toBeLessThanOrEqual(100);
    expect(ctx.sleeps[1]).toBeLessThanOrEqual(150);
  });

  it('sleeps for real by default (tiny delays)', async () => {
    const { url, seen } = await serve((_q, res, n) => (n === 1 ? json(res, 502, {}) : json(res, 200, {})));
    const http = createHttpClient({
      baseUrl: url,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 5000 },
      signal: new AbortController().signal,
      log: createLogger({ secrets: [], write: () => {} }),
      source: 'crm',
      stream: 'contacts',
    });
    expect((await http.get('/x')).status).toBe(200);
    expect(seen).toHaveLength(2);
  });

  it('gives up after maxAttempts with a transient RunError naming where, the request, status and vendor message', async () => {
    const { url, seen } = await serve((_q, res) => json(res, 503, { error: { code: 503, message: 'The service is currently unavailable.' } }));
    const ctx = await context(url);
    const error = await rejection(ctx.http.get('/v1/things', { page: 2 }));
    expect(error).toBeInstanceOf(RunError);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.transient).toBe(true);
    expect(error.where).toBe('crm/contacts');
    expect(error.status).toBe(503);
    expect(error.attempts).toBe(3);
    expect(error.message).toBe('GET /v1/things?page=2 failed after 3 attempts: 503 Service Unavailable: The service is currently unavailable.');
    expect(error.format()).toContain('\n  hint: ');
    expect(seen).toHaveLength(3);
    expect(ctx.sleeps).toHaveLength(2);
  });

  it('fails at once with AuthError on 401 and 403', async () => {
    const { url, seen } = await serve((q, res) =>
      q.url?.startsWith('/a')
        ? json(res, 401, { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' })
        : json(res, 403, { message: 'missing scope crm.objects.contacts.read' }),
    );
    const ctx = await context(url);
    const e401 = await rejection(ctx.http.get('/a'));
    expect(e401).toBeInstanceOf(AuthError);
    expect(e401.transient).toBe(false);
    expect(e401.format()).toMatch(/^crm\/contacts: authentication failed \(401 Unauthorized\): Authentication credentials not found\.\n  hint: check the credentials/);
    const e403 = await rejection(ctx.http.get('/b'));
    expect(e403).toBeInstanceOf(AuthError);
    expect(e403.message).toBe('permission denied (403 Forbidden): missing scope crm.objects.contacts.read');
    expect(e403.hint).toContain('scopes GET /b');
    expect(seen).toHaveLength(2);
    expect(ctx.sleeps).toEqual([]);
  });

  it('fails at once on other 4xx with the vendor message', async () => {
    const { url, seen } = await serve((_q, res) => json(res, 404, { error: 'not_found', error_description: 'no such property 123' }));
    const ctx = await context(url);
    const error = await rejection(ctx.http.get('/v1beta/properties/123'));
    expect(error).toBeInstanceOf(HttpError);
    expect(error.transient).toBe(false);
    expect(error.message).toBe('GET /v1beta/properties/123 failed (404 Not Found): not_found: no such property 123');
    expect(seen).toHaveLength(1);
  });

  it('throws QuotaError instead of sleeping when Retry-After exceeds maxDelayMs', async () => {
    const { url, seen } = await serve((_q, res) => json(res, 429, { message: 'daily limit' }, { 'retry-after': '7200' }));
    const ctx = await context(url, { retry: { maxDelayMs: 60_000 } });
    const before = Date.now();
    const error = await rejection(ctx.http.get('/crm/v3/objects/contacts'));
    expect(error).toBeInstanceOf(QuotaError);
    expect(error.where).toBe('crm/contacts');
    expect(error.message).toContain('GET /crm/v3/objects/contacts: rate limited (429 Too Many Requests: daily limit) until ');
    expect(error.resetsAt.getTime()).toBeGreaterThanOrEqual(before + 7_200_000);
    expect(error.resetsAt.getTime()).toBeLessThan(before + 7_300_000);
    expect(seen).toHaveLength(1);
    expect(ctx.sleeps).toEqual([]);
  });

  it('lets a connector classify a DAILY 429 as a quota and a vendor 400 as transient', async () => {
    const resets = new Date('2030-01-02T00:00:00Z');
    const { url, seen } = await serve((q, res, n) => {
      if (q.url === '/daily') return json(res, 429, { policyName: 'DAILY', message: 'You have reached your daily limit.' });
      return n === 2 ? json(res, 400, { message: 'try again' }) : json(res, 200, { ok: true });
    });
    const ctx = await context(url, {
      classify: (response, body) => {
        const b = body as { policyName?: string; message?: string };
        if (response.status === 429 && b.policyName === 'DAILY') return { kind: 'quota', quota: 'daily limit', resetsAt: resets };
        if (response.status === 400 && b.message === 'try again') return { kind: 'transient', retryAfterMs: 10 };
        return undefined;
      },
    });
    const quota = await rejection(ctx.http.get('/daily'));
    expect(quota).toBeInstanceOf(QuotaError);
    expect(quota.quota).toBe('daily limit');
    expect(quota.resetsAt).toEqual(resets);
    expect(quota.message).toBe(
      'GET /daily: daily limit exhausted (429 Too Many Requests): You have reached your daily limit.; resets at 2030-01-02T00:00:00.000Z',
    );
    expect((await ctx.http.get('/flaky')).status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(ctx.sleeps).toEqual([10]);
  });

  it('retries when the server drops the connection', async () => {
    const { url, seen } = await serve((q, res, n) => (n === 1 ? q.socket.destroy() : json(res, 200, { ok: true })));
    const ctx = await context(url);
    expect((await ctx.http.get('/x')).body).toEqual({ ok: true });
    expect(seen).toHaveLength(2);
    expect(ctx.logs.find((l) => l.level === 'warn')?.msg).toMatch(/connection (closed by the server|reset)/);
  });

  it('retries a refused connection, then fails naming it', async () => {
    const { url } = await serve(() => {});
    await new Promise((done) => servers.pop()!.close(done));
    const ctx = await context(url);
    const error = await rejection(ctx.http.get('/x'));
    expect(error).toBeInstanceOf(HttpError);
    expect(error.transient).toBe(true);
    expect(error.message).toBe('GET /x failed after 3 attempts: connection refused (ECONNREFUSED)');
    expect(ctx.sleeps).toHaveLength(2);
  });

  it('times out an attempt that never gets an answer, retries, and fails after maxAttempts', async () => {
    const { url, seen } = await serve((q, res) => {
      if (q.url === '/sometimes' && seen.filter((s) => s.url === '/sometimes').length === 2) json(res, 200, { ok: true });
    });
    const ctx = await context(url, { retry: { timeoutMs: 100 } });
    const error = await rejection(ctx.http.get('/never'));
    expect(error).toBeInstanceOf(HttpError);
    expect(error.message).toBe('GET /never failed after 3 attempts: no response within 100 ms');
    expect(seen).toHaveLength(3);
    expect((await ctx.http.request({ url: '/sometimes', timeoutMs: 100 })).body).toEqual({ ok: true });
    expect(seen).toHaveLength(5);
  });

  it('throws CancelledError promptly when the run is aborted mid-request, without retrying', async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((done) => (arrived = done));
    const { url, seen } = await serve(() => arrived());
    // A 60 s attempt timeout: only the abort can end this request within the test's time.
    const ctx = await context(url, { retry: { timeoutMs: 60_000 } });
    const pending = rejection(ctx.http.get('/slow'));
    await arrival;
    ctx.controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(CancelledError);
    expect(error.where).toBe('crm/contacts');
    expect(seen).toHaveLength(1);
    expect(ctx.sleeps).toEqual([]);
  });

  it('throws CancelledError when aborted while waiting to retry', async () => {
    const { url, seen } = await serve((_q, res) => json(res, 503, {}));
    const ctx = await context(url);
    const http = ctx.http.extend({});
    const pending = rejection(http.get('/x'));
    // The recording sleep yields one event-loop turn; abort as soon as the first wait is asked for.
    while (ctx.sleeps.length === 0) await new Promise((done) => setImmediate(done));
    ctx.controller.abort();
    expect(await pending).toBeInstanceOf(CancelledError);
    expect(seen).toHaveLength(1);
  });

  it('keeps tokens out of error messages and logs', async () => {
    const token = 'pat-na1-0123456789abcdef';
    const { url } = await serve((_q, res) => json(res, 500, { message: `bad token ${token}` }));
    const ctx = await context(url, { secrets: [token], retry: { maxAttempts: 2 }, headers: { authorization: `Bearer ${token}` } });
    const error = await rejection(ctx.http.get('/v1/x', { access_token: token, api_key: 'k-1', limit: 5 }));
    expect(error.message).toBe('GET /v1/x?access_token=***&api_key=***&limit=5 failed after 2 attempts: 500 Internal Server Error: bad token ***');
    const text = JSON.stringify(ctx.logs);
    expect(text).toContain('retrying GET /v1/x?access_token=***');
    expect(text).not.toContain(token);
    expect(text).not.toContain('k-1');
  });

  it('sends JSON bodies, repeated query keys and merged headers; joins baseUrl paths', async () => {
    const { url, seen } = await serve((q, res, _n, body) => json(res, 200, { echo: body ? JSON.parse(body) : null, auth: q.headers.authorization }));
    const ctx = await context(`${url}/api/v3/`);
    const http = ctx.http.extend({ headers: { authorization: 'Bearer t0k3n-xyz' } });
    const res = await http.post<{ echo: unknown; auth: string }>('search', { filters: [{ a: 1 }] });
    expect(res.body).toEqual({ echo: { filters: [{ a: 1 }] }, auth: 'Bearer t0k3n-xyz' });
    expect(seen[0].url).toBe('/api/v3/search');
    expect(seen[0].headers['content-type']).toBe('application/json');
    await http.get('list', { properties: ['email', 'phone'], after: undefined, n: null, ok: true });
    expect(seen[1].url).toBe('/api/v3/list?properties=email&properties=phone&ok=true');
  });
});

function under(more: Partial<Parameters<typeof retryingFetch>[0]> = {}) {
  const sleeps: number[] = [];
  const lines: string[] = [];
  const f = retryingFetch({
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 10_000, timeoutMs: 5000 },
    signal: new AbortController().signal,
    log: createLogger({ secrets: [], level: 'warn', write: (l) => lines.push(l) }),
    source: 'ga4',
    stream: 'events',
    sleep: async (ms) => void sleeps.push(ms),
    ...more,
  });
  return { f, sleeps, lines };
}

describe('retryingFetch', () => {
  it('retries 429/503 under the same policy and returns the success', async () => {
    const { url, seen } = await serve((_q, res, n) =>
      n === 1 ? json(res, 429, {}, { 'retry-after': '1' }) : n === 2 ? json(res, 503, {}) : json(res, 200, { rows: 3 }),
    );
    const { f, sleeps, lines } = under();
    const res = await f(`${url}/v1beta/properties/1:runReport`, { method: 'POST', body: '{"limit":"10"}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ rows: 3 });
    expect(seen.map((s) => s.body)).toEqual(['{"limit":"10"}', '{"limit":"10"}', '{"limit":"10"}']);
    expect(sleeps[0]).toBe(1000);
    expect(sleeps).toHaveLength(2);
    expect(lines[0]).toContain('WARN  retrying POST /v1beta/properties/1:runReport in 1000 ms');
  });

  it('hands the library its final response: 401 untouched, a 503 once attempts are spent', async () => {
    const { url, seen } = await serve((q, res) =>
      q.url === '/auth' ? json(res, 401, { error: { message: 'Request had invalid authentication credentials.' } }) : json(res, 503, { error: { message: 'down' } }),
    );
    const { f } = under();
    const r401 = await f(new Request(`${url}/auth`));
    expect(r401.status).toBe(401);
    expect(await r401.json()).toEqual({ error: { message: 'Request had invalid authentication credentials.' } });
    expect(seen).toHaveLength(1);
    const r503 = await f(`${url}/down`);
    expect(r503.status).toBe(503);
    expect(r503.url).toBe(`${url}/down`);
    expect(await r503.json()).toEqual({ error: { message: 'down' } });
    expect(seen).toHaveLength(4);
  });

  it('throws QuotaError when asked to wait past maxDelayMs', async () => {
    const { url } = await serve((_q, res) => json(res, 429, {}, { 'retry-after': '86400' }));
    const error = await rejection(under().f(`${url}/q?key=s3cret-value`));
    expect(error).toBeInstanceOf(QuotaError);
    expect(error.where).toBe('ga4/events');
    expect(error.message).toContain('GET /q?key=***: rate limited');
  });

  it('passes the caller’s own abort through untouched', async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((done) => (arrived = done));
    const { url } = await serve(() => arrived());
    const own = new AbortController();
    const pending = rejection(under().f(`${url}/hang`, { signal: own.signal }));
    await arrival;
    own.abort();
    const error = await pending;
    expect(error.name).toBe('AbortError');
  });
});

describe('helpers', () => {
  it('parses Retry-After per RFC 9110', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('extracts vendor messages from common error bodies', () => {
    expect(vendorMessage({ error: { code: 403, message: 'denied', status: 'PERMISSION_DENIED' } })).toBe('denied');
    expect(vendorMessage({ errors: [{ message: 'first' }, { message: 'second' }] })).toBe('first');
    expect(vendorMessage({ type: 'about:blank', title: 'Bad', detail: 'field x' })).toBe('field x');
    expect(vendorMessage('<html>proxy error</html>')).toBeUndefined();
    expect(vendorMessage('plain words')).toBe('plain words');
  });

  it('shows a URL as path and query with credentials masked', () => {
    expect(showUrl('https://u:p@api.x.com/v1/a?token=abc&limit=5&sig=zz')).toBe('/v1/a?token=***&limit=5&sig=***');
  });
});
