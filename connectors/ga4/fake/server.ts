// A local Google Analytics Data API (v1beta) for the connector's tests and multi-source pipeline runs:
// `const fake = await startFake(); fake.url`. It reproduces, per
// https://developers.google.com/analytics/devguides/reporting/data/v1/rest/v1beta/properties/runReport:
//   POST /v1beta/properties/{id}:runReport   dateRanges (YYYY-MM-DD, today, yesterday, NdaysAgo), dimensions,
//                                            metrics, orderBys, limit / offset (int64 strings; at most
//                                            250,000 rows a page), returnPropertyQuota → rows, rowCount,
//                                            metadata.currencyCode, propertyQuota
//   POST /token                              Google's token endpoint (shared with the BigQuery fake)
// Rows are aggregated from daily fixture rows over the dimensions asked for. Errors are Google's:
// 400 INVALID_ARGUMENT for an unknown dimension or metric, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED
// for another property, 429 RESOURCE_EXHAUSTED "Exhausted property tokens per day…" once the fake's
// daily tokens run out (https://developers.google.com/analytics/devguides/reporting/data/v1/quotas),
// and whatever a test queues with failNext.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonObject } from '../../../core/sdk/index.ts';
import { createOAuthFake } from '../../ga4-bigquery/fake/oauth.ts';
import type { OAuthFake } from '../../ga4-bigquery/fake/oauth.ts';
import { googleErrorBody } from '../../ga4-bigquery/fake/server.ts';
import report from './fixtures/report-rows.json' with { type: 'json' };

export interface ReportRow {
  date: string;
  sessionDefaultChannelGroup: string;
  sessionSourceMedium: string;
  sessionCampaignName: string;
  [metric: string]: string | number;
}

export const fixtures = {
  property: report.property,
  currencyCode: report.currencyCode,
  timeZone: report.timeZone,
  today: report.today,
  rows: report.rows as ReportRow[],
};

const DIMENSIONS = new Set(['date', 'sessionDefaultChannelGroup', 'sessionSourceMedium', 'sessionCampaignName']);
const METRIC_TYPES: Record<string, string> = { sessions: 'TYPE_INTEGER', keyEvents: 'TYPE_FLOAT', totalRevenue: 'TYPE_CURRENCY', purchaseRevenue: 'TYPE_CURRENCY' };
// Standard-property limits (Data API "Quotas" page): 200,000 tokens a day, 40,000 an hour.
const TOKENS_PER_DAY = 200_000;
const TOKENS_PER_REQUEST = 10;

export interface RunReportCall {
  property: string;
  body: JsonObject;
  authorization?: string;
}

export interface FakeFailure {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface DataApiFake {
  /** http://127.0.0.1:<port>/ — the connector's analytics_data_url. */
  url: string;
  tokenUrl: string;
  property: string;
  oauth: OAuthFake;
  /** Every runReport call with its parsed body (limit/offset as they were sent). */
  calls: RunReportCall[];
  close(): Promise<void>;
  /** Replace the daily rows (late data, reprocessing). */
  setRows(rows: ReportRow[]): void;
  /** The date `today` resolves to (YYYY-MM-DD). */
  setToday(date: string): void;
  /** Daily property tokens left; at 0 runReport answers 429 RESOURCE_EXHAUSTED. */
  setTokensLeft(tokens: number): void;
  failNext(...failures: FakeFailure[]): void;
}

/** Error bodies the Data API sends, for tests to queue with failNext. */
export const errors = {
  tokensPerDay: () => googleErrorBody(429, 'RESOURCE_EXHAUSTED', 'Exhausted property tokens per day. These quota tokens will return tomorrow.', 'RATE_LIMIT_EXCEEDED'),
  tokensPerHour: () =>
    googleErrorBody(429, 'RESOURCE_EXHAUSTED', 'Exhausted property tokens per hour for a project per property. These quota tokens will return in under an hour.', 'RATE_LIMIT_EXCEEDED'),
  concurrent: () => googleErrorBody(429, 'RESOURCE_EXHAUSTED', 'Exhausted concurrent requests quota. Please try again later.', 'RATE_LIMIT_EXCEEDED'),
  unavailable: () => googleErrorBody(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'backendError'),
  unauthenticated: () =>
    googleErrorBody(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'authError'),
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** A Data API date: YYYY-MM-DD, today, yesterday or NdaysAgo, as YYYYMMDD; undefined when invalid. */
function resolveDate(value: unknown, today: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  let iso: string | undefined;
  if (value === 'today') iso = today;
  else if (value === 'yesterday') iso = addDays(today, -1);
  else if (/^\d+daysAgo$/.test(value)) iso = addDays(today, -Number.parseInt(value, 10));
  else if (/^\d{4}-\d{2}-\d{2}$/.test(value)) iso = value;
  return iso?.replaceAll('-', '');
}

const invalid = (message: string) => googleErrorBody(400, 'INVALID_ARGUMENT', message, 'badRequest');
const int64 = (v: unknown): number | undefined => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'number' && Number.isInteger(v) ? v : undefined);

export async function startFake(options: { rows?: ReportRow[]; property?: string } = {}): Promise<DataApiFake> {
  const property = options.property ?? fixtures.property;
  const oauth = createOAuthFake();
  let rows = [...(options.rows ?? fixtures.rows)];
  let today = fixtures.today;
  let tokensLeft = TOKENS_PER_DAY;
  const failures: FakeFailure[] = [];
  const calls: RunReportCall[] = [];

  function runReport(body: JsonObject, res: ServerResponse): void {
    const ranges = body.dateRanges as { startDate?: unknown; endDate?: unknown }[] | undefined;
    if (!Array.isArray(ranges) || ranges.length === 0) return send(res, 400, invalid('A dateRange is required.'));
    const dims = ((body.dimensions ?? []) as { name?: string }[]).map((d) => d.name ?? '');
    const mets = ((body.metrics ?? []) as { name?: string }[]).map((m) => m.name ?? '');
    for (const d of dims) if (!DIMENSIONS.has(d)) return send(res, 400, invalid(`Field ${d} is not a valid dimension. For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema`));
    for (const m of mets) if (!METRIC_TYPES[m]) return send(res, 400, invalid(`Field ${m} is not a valid metric. For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema`));
    if (mets.length === 0) return send(res, 400, invalid('At least one metric is required.'));
    const limit = body.limit === undefined ? 10_000 : int64(body.limit);
    const offset = body.offset === undefined ? 0 : int64(body.offset);
    if (!limit || offset === undefined) return send(res, 400, invalid('limit must be positive and offset non-negative.'));
    if (tokensLeft <= 0) return send(res, 429, errors.tokensPerDay());
    tokensLeft -= TOKENS_PER_REQUEST;

    const inRange = rows.filter((r) =>
      ranges.some((range) => {
        const from = resolveDate(range.startDate, today);
        const to = resolveDate(range.endDate, today);
        return from !== undefined && to !== undefined && r.date >= from && r.date <= to && r.date <= today.replaceAll('-', '');
      }),
    );
    const groups = new Map<string, { dims: string[]; sums: number[] }>();
    for (const r of inRange) {
      const key = dims.map((d) => String(r[d])).join('\u0000');
      const g = groups.get(key) ?? { dims: dims.map((d) => String(r[d])), sums: mets.map(() => 0) };
      mets.forEach((m, i) => (g.sums[i] += Number(r[m] ?? 0)));
      groups.set(key, g);
    }
    const all = [...groups.values()];
    for (const order of [...((body.orderBys ?? []) as { dimension?: { dimensionName?: string }; desc?: boolean }[])].toReversed()) {
      const i = dims.indexOf(order.dimension?.dimensionName ?? '');
      if (i >= 0) all.sort((a, b) => (a.dims[i] < b.dims[i] ? -1 : a.dims[i] > b.dims[i] ? 1 : 0) * (order.desc ? -1 : 1));
    }
    // "The API returns a maximum of 250,000 rows per request, no matter how many you ask for."
    const page = all.slice(offset, offset + Math.min(limit, 250_000));
    const round = (n: number) => String(Math.round(n * 100) / 100);
    send(res, 200, {
      dimensionHeaders: dims.map((name) => ({ name })),
      metricHeaders: mets.map((name) => ({ name, type: METRIC_TYPES[name] })),
      ...(page.length > 0
        ? { rows: page.map((g) => ({ dimensionValues: g.dims.map((value) => ({ value })), metricValues: g.sums.map((v) => ({ value: round(v) })) })) }
        : {}),
      // proto3 JSON leaves out zero values: no rowCount when nothing matched.
      ...(all.length > 0 ? { rowCount: all.length } : {}),
      metadata: { currencyCode: fixtures.currencyCode, timeZone: fixtures.timeZone },
      ...(body.returnPropertyQuota
        ? {
            propertyQuota: {
              tokensPerDay: { consumed: TOKENS_PER_REQUEST, remaining: tokensLeft },
              tokensPerHour: { consumed: TOKENS_PER_REQUEST, remaining: Math.min(40_000, tokensLeft) },
              concurrentRequests: { consumed: 0, remaining: 10 },
              serverErrorsPerProjectPerHour: { consumed: 0, remaining: 10 },
              potentiallyThresholdedRequestsPerHour: { consumed: 0, remaining: 120 },
              tokensPerProjectPerHour: { consumed: TOKENS_PER_REQUEST, remaining: Math.min(14_000, tokensLeft) },
            },
          }
        : {}),
      kind: 'analyticsData#runReport',
    });
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const text = await readBody(req);
      if (req.method === 'POST' && url.pathname === '/token') return oauth.handleToken(new URLSearchParams(text), res);
      const m = /^\/v1beta\/properties\/([^/:]+):runReport$/.exec(url.pathname);
      let body: JsonObject = {};
      try {
        body = text ? (JSON.parse(text) as JsonObject) : {};
      } catch {
        return send(res, 400, invalid('Invalid JSON payload received.'));
      }
      if (m) calls.push({ property: m[1], body, authorization: req.headers.authorization });
      const failure = failures.shift();
      if (failure) return send(res, failure.status, failure.body ?? googleErrorBody(failure.status, 'UNKNOWN', 'injected failure', 'backendError'), failure.headers);
      const grant = oauth.tokenFor(req.headers.authorization);
      if (!grant) return send(res, 401, errors.unauthenticated(), { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
      if (!/auth\/analytics(\.readonly)?\b/.test(grant.scope)) {
        return send(res, 403, googleErrorBody(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT'));
      }
      if (!m || req.method !== 'POST') return send(res, 404, googleErrorBody(404, 'NOT_FOUND', `Method not found: ${req.method} ${url.pathname}`, 'notFound'));
      if (m[1] !== property) {
        return send(res, 403, googleErrorBody(403, 'PERMISSION_DENIED',
          'User does not have sufficient permissions for this property. To learn more about Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.',
          'forbidden'));
      }
      return runReport(body, res);
    } catch (error) {
      send(res, 500, googleErrorBody(500, 'INTERNAL', `fake failed: ${(error as Error).message}`, 'internalError'));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    tokenUrl: `${url}token`,
    property,
    oauth,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
    setRows(next) {
      rows = [...next];
    },
    setToday(date) {
      today = date;
    },
    setTokensLeft(tokens) {
      tokensLeft = tokens;
    },
    failNext(...f) {
      failures.push(...f);
    },
  };
}
