// A local fake of the Google Ads API for tests and demos: Google's OAuth token endpoint (refresh-token
// grant, RFC 6749 errors) and REST GoogleAdsService.SearchStream. It answers GAQL over `campaign`,
// `click_view` and `customer` from JSON fixtures, keeps only the selected fields, filters by the
// `segments.date` condition (BETWEEN or =, parsed with a regex: enough for the connector's queries),
// splits results into batches like the real stream, and enforces what the real API does: a valid
// bearer token, the developer-token header, login-customer-id for manager access, one day per
// click_view query within 90 days. Failures (401, 429 with Retry-After, quota errors, 5xx) can be
// injected. Wire format: https://developers.google.com/google-ads/api/rest/common/search,
// …/reference/rpc/latest/SearchGoogleAdsStreamResponse, …/GoogleAdsFailure, …/ClickView.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GoogleAdsConfig, GoogleAdsRow } from '../client.ts';
import campaignDaily from './fixtures/campaign-daily.json' with { type: 'json' };
import clickView from './fixtures/click-view.json' with { type: 'json' };

export const fixtures: { campaignDaily: GoogleAdsRow[]; clickView: GoogleAdsRow[] } = { campaignDaily, clickView };

/** The credentials the fake accepts unless told otherwise. Not secrets: they only open the fake. */
export const FAKE_CREDENTIALS = {
  customer_id: '123-456-7890',
  developer_token: 'fake-developer-token',
  client_id: 'fake-client.apps.googleusercontent.com',
  client_secret: 'fake-client-secret',
  refresh_token: '1//fake-refresh-token',
};

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface StartFakeOptions {
  campaignRows?: GoogleAdsRow[];
  clickRows?: GoogleAdsRow[];
  /** Rows per SearchStream batch (the real API sends up to 10,000). */
  batchSize?: number;
  credentials?: Partial<typeof FAKE_CREDENTIALS>;
  /** false: the developer token has Test Account Access only (DEVELOPER_TOKEN_NOT_APPROVED). */
  developerTokenApproved?: boolean;
  /** When set, customer_id is reachable only through this manager: the login-customer-id header is required. */
  managerId?: string;
  tokenTtlSeconds?: number;
}

export interface GoogleAdsFake {
  url: string;
  tokenUrl: string;
  requests: RecordedRequest[];
  /** GAQL of every SearchStream call, in order. */
  queries: string[];
  tokenRequests: number;
  campaignRows: GoogleAdsRow[];
  clickRows: GoogleAdsRow[];
  setCampaignRows(rows: GoogleAdsRow[]): void;
  setClickRows(rows: GoogleAdsRow[]): void;
  /** Answer the next `times` calls of `on` with `response` instead. */
  fail(response: FakeResponse, options?: { times?: number; on?: 'search' | 'token' }): void;
  /** Every access token issued so far stops working (OAUTH_TOKEN_EXPIRED). */
  expireTokens(): void;
  /** A complete connector config pointing at this fake. */
  config(extra?: Partial<GoogleAdsConfig>): GoogleAdsConfig;
  close(): Promise<void>;
}

const STATUS_MESSAGES: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: [
    'UNAUTHENTICATED',
    'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  ],
  403: ['PERMISSION_DENIED', 'The caller does not have permission'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  500: ['INTERNAL', 'Internal error encountered.'],
  503: ['UNAVAILABLE', 'The service is currently unavailable.'],
};

function requestId(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}

/** A google.rpc.Status carrying one GoogleAdsError; SearchStream sends it inside an array. */
export function adsError(status: number, family: string, value: string, message: string, details?: Record<string, unknown>): FakeResponse {
  const [name, top] = STATUS_MESSAGES[status] ?? ['UNKNOWN', 'Unknown error.'];
  const failure = {
    '@type': 'type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure',
    errors: [{ errorCode: { [family]: value }, message, ...(details ? { details } : {}) }],
    requestId: requestId(),
  };
  return { status, body: [{ error: { code: status, message: top, status: name, details: [failure] } }] };
}

/** Ready-made failures, as the real API sends them. */
export const googleAdsErrors = {
  unauthenticated: () => adsError(401, 'authenticationError', 'OAUTH_TOKEN_INVALID', 'Oauth token in the header is not valid.'),
  developerTokenNotApproved: () =>
    adsError(403, 'authorizationError', 'DEVELOPER_TOKEN_NOT_APPROVED', 'The developer token is only approved for use with test accounts. To access non-test accounts, apply for Basic or Standard access.'),
  /** Rate limited for a moment (QuotaErrorDetails.retryDelay). */
  rateLimited: (retryDelaySeconds = 5) =>
    adsError(429, 'quotaError', 'RESOURCE_TEMPORARILY_EXHAUSTED', 'Too many requests in a short amount of time.', {
      quotaErrorDetails: { rateScope: 'ACCOUNT', rateName: 'Requests per account', retryDelay: `${retryDelaySeconds}s` },
    }),
  /** The developer token's daily operations are spent. */
  dailyQuota: (retryDelaySeconds = 36_000) =>
    adsError(429, 'quotaError', 'RESOURCE_EXHAUSTED', 'Too many requests. Retry in 36000 seconds.', {
      quotaErrorDetails: { rateScope: 'DEVELOPER', rateName: 'Number of operations for basic access', retryDelay: `${retryDelaySeconds}s` },
    }),
  /** A bare 429 from the front end with a Retry-After header. */
  tooManyRequests: (retryAfterSeconds = 2): FakeResponse => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds) },
    body: [{ error: { code: 429, message: STATUS_MESSAGES[429][1], status: 'RESOURCE_EXHAUSTED' } }],
  }),
  unavailable: (): FakeResponse => ({ status: 503, body: [{ error: { code: 503, message: STATUS_MESSAGES[503][1], status: 'UNAVAILABLE' } }] }),
  internal: () => adsError(500, 'internalError', 'INTERNAL_ERROR', 'An internal error has occurred.'),
};

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

/** The row cut down to the selected fields (plus each resource's resourceName), as the API does. */
function project(row: GoogleAdsRow, fields: string[][]): GoogleAdsRow {
  const out: GoogleAdsRow = {};
  for (const path of fields) {
    let src: any = row;
    for (const k of path) src = src?.[k];
    if (src === undefined) continue;
    let dst = out;
    path.slice(0, -1).forEach((k, i) => {
      dst[k] ??= i === 0 && row[k]?.resourceName ? { resourceName: row[k].resourceName } : {};
      dst = dst[k];
    });
    dst[path.at(-1)!] = src;
  }
  return out;
}

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, r: FakeResponse): void {
  res.writeHead(r.status, { 'content-type': 'application/json; charset=UTF-8', ...r.headers });
  res.end(r.body === undefined ? '' : JSON.stringify(r.body));
}

export async function startFake(options: StartFakeOptions = {}): Promise<GoogleAdsFake> {
  const creds = { ...FAKE_CREDENTIALS, ...options.credentials };
  const customerId = creds.customer_id.replace(/\D/g, '');
  const batchSize = Math.max(1, options.batchSize ?? 10_000);
  const ttl = options.tokenTtlSeconds ?? 3599;
  const issued = new Map<string, { expiresAt: number; expired: boolean }>();
  const failures: { response: FakeResponse; times: number; on: 'search' | 'token' }[] = [];
  let tokenCount = 0;

  const fake: GoogleAdsFake = {
    url: '',
    tokenUrl: '',
    requests: [],
    queries: [],
    tokenRequests: 0,
    campaignRows: structuredClone(options.campaignRows ?? fixtures.campaignDaily),
    clickRows: structuredClone(options.clickRows ?? fixtures.clickView),
    setCampaignRows: (rows) => void (fake.campaignRows = rows),
    setClickRows: (rows) => void (fake.clickRows = rows),
    fail: (response, o = {}) => void failures.push({ response, times: o.times ?? 1, on: o.on ?? 'search' }),
    expireTokens: () => issued.forEach((t) => (t.expired = true)),
    config: (extra = {}) => ({ ...creds, token_url: fake.tokenUrl, base_url: fake.url, ...extra }),
    close: () => new Promise((done) => server.close(() => done())),
  };

  const injected = (on: 'search' | 'token'): FakeResponse | undefined => {
    const f = failures.find((x) => x.on === on && x.times > 0);
    if (!f) return undefined;
    f.times--;
    return f.response;
  };

  function token(form: URLSearchParams): FakeResponse {
    fake.tokenRequests++;
    if (form.get('grant_type') !== 'refresh_token') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${form.get('grant_type') ?? ''}` } };
    }
    if (form.get('client_id') !== creds.client_id || form.get('client_secret') !== creds.client_secret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } };
    }
    if (form.get('refresh_token') !== creds.refresh_token) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    }
    const accessToken = `ya29.fake-${++tokenCount}-${randomBytes(6).toString('hex')}`;
    issued.set(accessToken, { expiresAt: Date.now() + ttl * 1000, expired: false });
    return { status: 200, body: { access_token: accessToken, expires_in: ttl, scope: 'https://www.googleapis.com/auth/adwords', token_type: 'Bearer' } };
  }

  function search(req: IncomingMessage, customer: string, body: string): FakeResponse {
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const t = bearer ? issued.get(bearer) : undefined;
    if (!t) return googleAdsErrors.unauthenticated();
    if (t.expired || t.expiresAt <= Date.now()) return adsError(401, 'authenticationError', 'OAUTH_TOKEN_EXPIRED', 'Oauth token in the header has expired.');
    if (req.headers['developer-token'] !== creds.developer_token) return adsError(401, 'authenticationError', 'DEVELOPER_TOKEN_INVALID', 'The developer token is not valid.');
    if (options.developerTokenApproved === false) return googleAdsErrors.developerTokenNotApproved();
    const login = req.headers['login-customer-id'];
    if (customer !== customerId || (options.managerId && login !== options.managerId.replace(/\D/g, ''))) {
      return adsError(
        403,
        'authorizationError',
        'USER_PERMISSION_DENIED',
        "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header. See https://developers.google.com/google-ads/api/docs/concepts/call-structure#cid",
      );
    }
    let query: string;
    try {
      query = String((JSON.parse(body) as { query?: unknown }).query ?? '');
    } catch {
      return adsError(400, 'requestError', 'INVALID_INPUT', 'The request body is not valid JSON.');
    }
    fake.queries.push(query);
    const m = /^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)/is.exec(query);
    if (!m) return adsError(400, 'queryError', 'UNEXPECTED_END_OF_QUERY', 'Error in query: unexpected end of query.');
    const fields = m[1].split(',').map((f) => f.trim().split('.').map(camel));
    const resource = m[2];
    const between = /segments\.date\s+BETWEEN\s+'(\d{4}-\d{2}-\d{2})'\s+AND\s+'(\d{4}-\d{2}-\d{2})'/i.exec(query);
    const equals = /segments\.date\s*=\s*'(\d{4}-\d{2}-\d{2})'/i.exec(query);
    const [from, to] = between ? [between[1], between[2]] : equals ? [equals[1], equals[1]] : [undefined, undefined];
    let rows: GoogleAdsRow[];
    if (resource === 'campaign') rows = fake.campaignRows;
    else if (resource === 'click_view') {
      if (!from || from !== to) return adsError(400, 'clickViewError', 'EXPECTED_FILTER_ON_A_SINGLE_DAY', 'Missing filter on a single day.');
      if (from < addDays(new Date().toISOString().slice(0, 10), -90)) return adsError(400, 'clickViewError', 'DATE_TOO_OLD', 'The requested date is too old.');
      rows = fake.clickRows;
    } else if (resource === 'customer') rows = fake.campaignRows.slice(0, 1).map((r) => ({ customer: r.customer }));
    else return adsError(400, 'queryError', 'BAD_RESOURCE_TYPE_IN_FROM_CLAUSE', `Error in query: unknown resource ${resource}.`);
    if (from && to) rows = rows.filter((r) => r.segments?.date >= from && r.segments?.date <= to);
    if (/ORDER\s+BY\s+segments\.date/i.test(query)) rows = [...rows].sort((a, b) => String(a.segments?.date).localeCompare(String(b.segments?.date)));
    const limit = /\bLIMIT\s+(\d+)/i.exec(query);
    if (limit) rows = rows.slice(0, Number(limit[1]));
    const projected = rows.map((r) => project(r, fields));
    const fieldMask = fields.map((f) => f.join('.')).join(',');
    const id = requestId();
    const batches: Record<string, unknown>[] = [];
    for (let i = 0; i < projected.length || batches.length === 0; i += batchSize) {
      const results = projected.slice(i, i + batchSize);
      batches.push({ ...(results.length > 0 ? { results } : {}), fieldMask, requestId: id });
    }
    // "query_resource_consumption for non-Summary responses is returned in the final batch of results."
    batches[batches.length - 1].queryResourceConsumption = String(50 + projected.length);
    return { status: 200, body: batches };
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = await readBody(req);
      let parsed: unknown = raw;
      try {
        parsed = raw && String(req.headers['content-type']).includes('json') ? JSON.parse(raw) : raw;
      } catch {
        // keep the text
      }
      fake.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body: parsed });
      if (req.method === 'POST' && url.pathname === '/token') return send(res, injected('token') ?? token(new URLSearchParams(raw)));
      const m = /^\/(v\d+)\/customers\/([^/]+)\/googleAds:searchStream$/.exec(url.pathname);
      if (req.method !== 'POST' || !m) return send(res, { status: 404, body: { error: { code: 404, message: 'Method not found.', status: 'NOT_FOUND' } } });
      send(res, injected('search') ?? search(req, m[2], raw));
    })().catch((error: unknown) => send(res, { status: 500, body: { error: { code: 500, message: String(error), status: 'INTERNAL' } } }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.tokenUrl = `${fake.url}/token`;
  return fake;
}
