// A local fake of the Graph API's ad-account Insights edge for tests and demos. It serves
// campaign-day rows from a JSON fixture filtered by `time_range`, keeps only the requested `fields`,
// pages with opaque `after` cursors and a `paging.next` link until the last page, runs asynchronous
// report jobs (POST → report_run_id → async_status/async_percent_completion → results), checks the
// token (Authorization header or access_token parameter) and appsecret_proof, sends the
// X-Business-Use-Case-Usage header, and answers failures with Graph error bodies. Wire format:
// https://developers.facebook.com/docs/marketing-api/insights, …/insights/best-practices (async jobs),
// https://developers.facebook.com/docs/graph-api/results (paging),
// https://developers.facebook.com/docs/graph-api/guides/error-handling, …/overview/rate-limiting.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InsightsRow, MetaAdsConfig } from '../client.ts';
import insights from './fixtures/insights.json' with { type: 'json' };

export const fixtures: { insights: InsightsRow[] } = { insights };

/** Opens only the fake; not a secret. */
export const FAKE_ACCESS_TOKEN = 'EAAfake0000token';
export const FAKE_AD_ACCOUNT_ID = '1122334455';

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Query and form parameters together. */
  params: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
}

export type JobOutcome = 'Job Completed' | 'Job Failed' | 'Job Skipped';

export interface StartFakeOptions {
  rows?: InsightsRow[];
  accessToken?: string;
  adAccountId?: string;
  /** When set, every call must carry appsecret_proof = HMAC-SHA256(access_token, appSecret). */
  appSecret?: string;
  /** Status checks a report job needs before it finishes (default 2). */
  asyncPolls?: number;
  jobOutcome?: JobOutcome;
}

export interface MetaFake {
  url: string;
  requests: RecordedRequest[];
  rows: InsightsRow[];
  setRows(rows: InsightsRow[]): void;
  /** Report jobs created so far, by report_run_id. */
  jobs: Map<string, { params: Record<string, string>; polls: number }>;
  /** Answer the next `times` requests (optionally only those whose path matches `on`) with `response`. */
  fail(response: FakeResponse, options?: { times?: number; on?: RegExp }): void;
  config(extra?: Partial<MetaAdsConfig>): MetaAdsConfig;
  close(): Promise<void>;
}

function traceId(): string {
  return randomBytes(8).toString('base64url');
}

function graphError(status: number, error: Record<string, unknown>, headers: Record<string, string> = {}): FakeResponse {
  return { status, headers, body: { error: { ...error, fbtrace_id: traceId() } } };
}

function usage(minutes: number, callCount = 100): Record<string, string> {
  const entry = { type: 'ads_insights', call_count: callCount, total_cputime: 40, total_time: 52, estimated_time_to_regain_access: minutes, ads_api_access_tier: 'standard_access' };
  return { 'x-business-use-case-usage': JSON.stringify({ [FAKE_AD_ACCOUNT_ID]: [entry] }) };
}

/** Ready-made failures, shaped as the Graph API sends them. */
export const metaErrors = {
  /** An expired user token (code 190, subcode 463). Graph answers 400 with a WWW-Authenticate header. */
  expiredToken: (status = 400) =>
    graphError(
      status,
      {
        message: 'Error validating access token: Session has expired on Saturday, 14-Mar-26 16:00:00 PDT. The current time is Sunday, 15-Mar-26 02:00:00 PDT.',
        type: 'OAuthException',
        code: 190,
        error_subcode: 463,
      },
      { 'www-authenticate': 'OAuth "Facebook Platform" "invalid_token" "Error validating access token: Session has expired"' },
    ),
  /** The ads_insights Business Use Case limit, with the wait in X-Business-Use-Case-Usage (minutes). */
  insightsRateLimit: (minutes = 1) =>
    graphError(
      400,
      {
        message: '(#80000) There have been too many calls from this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-insights.',
        type: 'OAuthException',
        code: 80000,
        is_transient: true,
        error_user_title: 'Ads Insights rate limit',
      },
      usage(minutes),
    ),
  userRequestLimit: () => graphError(400, { message: '(#17) User request limit reached', type: 'OAuthException', code: 17, error_subcode: 2446079, is_transient: true }),
  /** An HTTP 429 with Retry-After, as a proxy or the edge may send. */
  tooManyRequests: (retryAfterSeconds = 2) =>
    graphError(429, { message: '(#4) Application request limit reached', type: 'OAuthException', code: 4, is_transient: true }, { 'retry-after': String(retryAfterSeconds) }),
  unknown: () => graphError(500, { message: 'An unknown error occurred', type: 'OAuthException', code: 1, error_subcode: 99, is_transient: true }),
  serviceUnavailable: () => graphError(503, { message: 'Service temporarily unavailable', type: 'OAuthException', code: 2, is_transient: true }),
  missingPermission: () => graphError(400, { message: '(#200) Ad account owner has NOT grant ads_management or ads_read permission', type: 'OAuthException', code: 200 }),
  tooMuchData: () =>
    graphError(400, {
      message: "Please reduce the amount of data you're asking for, then retry your request",
      type: 'OAuthException',
      code: 100,
      error_subcode: 1487534,
      is_transient: false,
    }),
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const cursorOf = (offset: number) => Buffer.from(String(offset)).toString('base64');
const offsetOf = (cursor: string | undefined) => (cursor ? Number(Buffer.from(cursor, 'base64').toString('utf8')) || 0 : 0);

export async function startFake(options: StartFakeOptions = {}): Promise<MetaFake> {
  const token = options.accessToken ?? FAKE_ACCESS_TOKEN;
  const account = (options.adAccountId ?? FAKE_AD_ACCOUNT_ID).replace(/^act_/, '');
  const failures: { response: FakeResponse; times: number; on?: RegExp }[] = [];
  let nextJob = 6023920149050;

  const fake: MetaFake = {
    url: '',
    requests: [],
    rows: structuredClone(options.rows ?? fixtures.insights),
    setRows: (rows) => void (fake.rows = rows),
    jobs: new Map(),
    fail: (response, o = {}) => void failures.push({ response, times: o.times ?? 1, on: o.on }),
    config: (extra = {}) => ({ ad_account_id: account, access_token: token, base_url: fake.url, ...extra }),
    close: () => new Promise((done) => server.close(() => done())),
  };

  /** Rows of the account for time_range, cut to the requested fields. */
  function select(params: Record<string, string>): InsightsRow[] | FakeResponse {
    if (params.level !== 'campaign') return graphError(400, { message: '(#100) This fake serves level=campaign only', type: 'OAuthException', code: 100 });
    if (params.time_increment !== '1') return graphError(400, { message: '(#100) This fake serves time_increment=1 only', type: 'OAuthException', code: 100 });
    let range: { since?: string; until?: string };
    try {
      range = JSON.parse(params.time_range ?? '') as typeof range;
    } catch {
      return graphError(400, { message: '(#100) Param time_range must be a JSON object with since and until', type: 'OAuthException', code: 100 });
    }
    if (!range.since || !range.until) return graphError(400, { message: '(#100) time_range needs since and until', type: 'OAuthException', code: 100 });
    const fields = (params.fields ?? 'spend,date_start,date_stop').split(',').map((f) => f.trim());
    return fake.rows
      .filter((r) => r.account_id === account && r.date_start >= range.since! && r.date_start <= range.until!)
      .map((r) => {
        // date_start and date_stop come with every row whatever the fields.
        const out: InsightsRow = {};
        for (const f of fields) if (r[f] !== undefined) out[f] = r[f];
        return { ...out, date_start: r.date_start, date_stop: r.date_stop };
      });
  }

  function page(rows: InsightsRow[], params: Record<string, string>, base: string): FakeResponse {
    const limit = Number(params.limit ?? 25) || 25;
    const offset = offsetOf(params.after);
    const data = rows.slice(offset, offset + limit);
    if (data.length === 0) return { status: 200, body: { data: [] } };
    const paging: Record<string, unknown> = { cursors: { before: cursorOf(offset), after: cursorOf(offset + data.length) } };
    if (offset + data.length < rows.length) {
      const next = new URL(base);
      for (const [k, v] of Object.entries(params)) if (k !== 'after' && k !== 'access_token') next.searchParams.set(k, v);
      // The link repeats the token only when the request carried it in the URL.
      if (params.access_token) next.searchParams.set('access_token', params.access_token);
      next.searchParams.set('after', cursorOf(offset + data.length));
      paging.next = next.toString();
    }
    return { status: 200, body: { data, paging } };
  }

  function handle(req: IncomingMessage, pathname: string, params: Record<string, string>): FakeResponse {
    const bearer = /^(?:Bearer|OAuth) (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const given = bearer ?? params.access_token;
    if (!given) return graphError(400, { message: 'An access token is required to request this resource.', type: 'OAuthException', code: 104 });
    if (given !== token) return graphError(400, { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190 });
    if (options.appSecret && params.appsecret_proof !== createHmac('sha256', options.appSecret).update(given).digest('hex')) {
      return graphError(400, { message: 'API calls from the server require an appsecret_proof argument', type: 'GraphMethodException', code: 100 });
    }
    const m = /^\/(v\d+\.\d+)\/([^/]+)(\/insights)?$/.exec(pathname);
    const unsupported = () =>
      graphError(400, {
        message: `Unsupported ${req.method?.toLowerCase()} request. Object with ID '${m?.[2] ?? pathname}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
        type: 'GraphMethodException',
        code: 100,
        error_subcode: 33,
      });
    if (!m) return unsupported();
    const [, version, object, edge] = m;
    const base = `${fake.url}${pathname}`;
    if (object.startsWith('act_')) {
      if (object !== `act_${account}`) return unsupported();
      if (!edge && req.method === 'GET') return { status: 200, body: { id: object, account_id: account, name: 'Acme PL', currency: 'PLN', timezone_name: 'Europe/Warsaw', account_status: 1 } };
      if (edge && req.method === 'GET') {
        const rows = select(params);
        return Array.isArray(rows) ? page(rows, params, base) : rows;
      }
      if (edge && req.method === 'POST') {
        const rows = select(params);
        if (!Array.isArray(rows)) return rows;
        const id = String(nextJob++);
        fake.jobs.set(id, { params, polls: 0 });
        return { status: 200, body: { report_run_id: id } };
      }
      return unsupported();
    }
    const job = fake.jobs.get(object);
    if (!job || req.method !== 'GET') return unsupported();
    if (edge) {
      const rows = select(job.params) as InsightsRow[];
      return page(rows, params, `${fake.url}/${version}/${object}/insights`);
    }
    job.polls++;
    const needed = options.asyncPolls ?? 2;
    const range = JSON.parse(job.params.time_range) as { since: string; until: string };
    const status = job.polls < needed ? (job.polls === 1 ? 'Job Not Started' : 'Job Running') : (options.jobOutcome ?? 'Job Completed');
    const percent = status === 'Job Completed' ? 100 : status === 'Job Running' ? Math.round((100 * job.polls) / needed) : 0;
    const body: Record<string, unknown> = {
      id: object,
      account_id: account,
      time_ref: 1773540000,
      async_status: status,
      async_percent_completion: percent,
      date_start: range.since,
      date_stop: range.until,
    };
    // Graph API v25+ explains a failed job (https://developers.facebook.com/blog/post/2026/01/08/enhanced-error-messaging-for-ads-insights-async-api/).
    if (status === 'Job Failed') Object.assign(body, { error_code: 2601, error_message: 'Job failed', error_user_msg: 'The report could not be computed; try a shorter date range.' });
    return { status: 200, body };
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = await readBody(req);
      const params: Record<string, string> = Object.fromEntries(url.searchParams);
      if (raw && String(req.headers['content-type']).includes('x-www-form-urlencoded')) Object.assign(params, Object.fromEntries(new URLSearchParams(raw)));
      fake.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, params, headers: req.headers });
      const f = failures.find((x) => x.times > 0 && (!x.on || x.on.test(url.pathname)));
      let r: FakeResponse;
      if (f) {
        f.times--;
        r = f.response;
      } else r = handle(req, url.pathname, params);
      res.writeHead(r.status, { 'content-type': 'application/json; charset=UTF-8', 'x-fb-trace-id': traceId(), ...usage(0, 3), ...r.headers });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(error), type: 'FakeError', code: 1 } }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
